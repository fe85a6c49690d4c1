//! Phrasings of each failure class written for dfh (not taken from the crash corpus): other
//! torch versions, other frameworks, other wordings of the same meaning. They guard the
//! patterns against fitting the corpus's words instead of what the errors mean.

use super::corpus_tests::builtin_database;
use super::*;

const CASES: &[(&str, &str)] = &[
    ("oom_gpu", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacity of 23.65 GiB of which 3.06 MiB is free."),
    ("oom_gpu", "RuntimeError: CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect."),
    ("oom_gpu", "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor with shape[32,512,512] and type float on /job:localhost/replica:0/task:0/device:GPU:0"),
    ("oom_gpu", "RuntimeError: MPS backend out of memory (MPS allocated: 17.50 GB, other allocations: 1.2 GB, max allowed: 18.13 GB)."),
    ("oom_gpu", "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`"),
    ("oom_host", "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 14.9 GiB for an array with shape (2000000, 1000) and data type float64"),
    ("oom_host", "  File \"prep.py\", line 3, in <module>\n    data = [0] * 10**12\nMemoryError"),
    ("oom_host", "step 10 loss 2.2\n/bin/sh: line 1: 31337 Killed                  python train.py"),
    ("oom_host", "terminate called after throwing an instance of 'std::bad_alloc'\n  what():  std::bad_alloc\nAborted (core dumped)"),
    ("shape_mismatch", "RuntimeError: shape '[32, -1, 12, 64]' is invalid for input of size 786432"),
    ("shape_mismatch", "RuntimeError: Sizes of tensors must match except in dimension 1. Expected size 16 but got size 8 for tensor number 1 in the list."),
    ("shape_mismatch", "ValueError: Target size (torch.Size([32])) must be the same as input size (torch.Size([32, 1]))"),
    ("shape_mismatch", "RuntimeError: Given groups=1, weight of size [64, 3, 7, 7], expected input[8, 1, 224, 224] to have 3 channels, but got 1 channels instead"),
    ("shape_mismatch", "RuntimeError: The expanded size of the tensor (128) must match the existing size (64) at non-singleton dimension 2.  Target sizes: [4, 8, 128].  Tensor sizes: [4, 8, 64]"),
    ("shape_mismatch", "ValueError: operands could not be broadcast together with shapes (3,4) (5,4)"),
    ("shape_mismatch", "RuntimeError: size mismatch, m1: [32 x 512], m2: [256 x 10] at /pytorch/aten/src/THC/generic/THCTensorMathBlas.cu:290"),
    ("shape_mismatch", "IndexError: Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ("dtype_mismatch", "RuntimeError: expected scalar type Half but found Float"),
    ("dtype_mismatch", "RuntimeError: Input type (torch.cuda.HalfTensor) and weight type (torch.cuda.FloatTensor) should be the same"),
    ("dtype_mismatch", "RuntimeError: \"nll_loss_forward_reduce_cuda_kernel_2d_index\" not implemented for 'Float'"),
    ("dtype_mismatch", "RuntimeError: mat1 and mat2 must have the same dtype, but got Half and Float"),
    ("device_mismatch", "RuntimeError: Expected all tensors to be on the same device, but got index is on cpu, different from other tensors on cuda:0 (when checking argument in method wrapper_CUDA__index_select)"),
    ("device_mismatch", "RuntimeError: Input type (torch.FloatTensor) and weight type (torch.cuda.FloatTensor) should be the same or input should be a MKLDNN tensor and weight is a dense tensor"),
    ("device_mismatch", "TypeError: can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."),
    ("device_mismatch", "RuntimeError: Tensor for argument #2 'mat1' is on CPU, but expected it to be on GPU (while checking arguments for addmm)"),
    ("nan_inf", "ValueError: Input contains NaN, infinity or a value too large for dtype('float64')."),
    ("nan_inf", "RuntimeError: probability tensor contains either `inf`, `nan` or element < 0"),
    ("nan_inf", "FloatingPointError: Minimum loss scale reached (0.0001). Your loss is probably exploding."),
    ("cuda_device_assert", "../aten/src/ATen/native/cuda/Loss.cu:240: nll_loss_forward_reduce_cuda_kernel_2d: block: [0,0,0], thread: [5,0,0] Assertion `t >= 0 && t < n_classes` failed.\nTraceback (most recent call last):\n  File \"train.py\", line 9, in <module>\n    loss.backward()\nRuntimeError: CUDA error: device-side assert triggered"),
    ("index_out_of_range", "IndexError: index 10 is out of bounds for dimension 0 with size 10"),
    ("index_out_of_range", "IndexError: Target 10 is out of bounds."),
    ("index_out_of_range", "  File \"data.py\", line 8, in get\n    return items[i]\nIndexError: list index out of range"),
    ("autograd_inplace", "RuntimeError: a leaf Variable that requires grad is being used in an in-place operation."),
    ("autograd_no_grad", "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"),
    ("import_error", "ImportError: libcudart.so.11.0: cannot open shared object file: No such file or directory"),
    ("import_error", "ImportError: /venv/lib/python3.10/site-packages/flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi"),
    ("syntax_error", "  File \"train.py\", line 12\n    def f(x)\n            ^\nSyntaxError: expected ':'"),
    ("syntax_error", "TabError: inconsistent use of tabs and spaces in indentation"),
    ("name_error", "UnboundLocalError: local variable 'loss' referenced before assignment"),
    ("name_error", "NameError: name 'F' is not defined. Did you mean: 'f'?"),
    ("type_error_call", "TypeError: forward() missing 1 required positional argument: 'mask'"),
    ("type_error_call", "TypeError: __init__() takes 2 positional arguments but 3 were given"),
    ("type_error_call", "TypeError: 'Tensor' object is not callable"),
    ("state_dict_mismatch", "RuntimeError: Error(s) in loading state_dict for GPT:\n\tMissing key(s) in state_dict: \"transformer.h.0.attn.bias\"."),
    ("file_not_found", "FileNotFoundError: [Errno 2] No such file or directory: 'data/train.bin'"),
    ("file_not_found", "OSError: Can't load tokenizer for 'gpt2'. If you were trying to load it from 'https://huggingface.co/models', make sure you don't have a local directory with the same name."),
    ("file_not_found", "ValueError: Checkpoint path ckpt/latest does not exist"),
    ("compile_error", "torch._dynamo.exc.Unsupported: call_function BuiltinVariable(setattr) [TensorVariable(), ConstantVariable()] {}"),
    ("compile_error", "triton.compiler.errors.CompilationError: at 12:4:\n    acc += tl.dot(a, b)\n    ^"),
    ("compile_error", "RuntimeError: Error building extension 'fused_adam'"),
    ("distributed_nccl", "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/NCCLUtils.hpp:275, unhandled cuda error (run with NCCL_DEBUG=INFO for details), NCCL version 2.18.1\nncclUnhandledCudaError: Call to CUDA function failed."),
    ("distributed_nccl", "torch.distributed.DistNetworkError: The server socket has failed to listen on any local network address. The server socket has failed to bind to [::]:29500 (errno: 98 - Address already in use)."),
    ("distributed_nccl", "ValueError: Default process group has not been initialized, please make sure to call init_process_group."),
    ("dataloader_worker", "RuntimeError: DataLoader worker (pid 12345) is killed by signal: Bus error. It is possible that dataloader's workers are out of shared memory. Please try to raise your shared memory limit."),
    ("dataloader_worker", "ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared memory (shm)."),
    ("unsupported_kernel", "NotImplementedError: Could not run 'aten::empty_strided' with arguments from the 'CUDA' backend."),
    ("unsupported_kernel", "RuntimeError: No available kernel. Aborting execution."),
    ("unsupported_kernel", "RuntimeError: CUDA error: invalid device function"),
    ("unsupported_kernel", "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla T4 GPU has compute capability 7.5."),
    ("timeout", "slurmstepd: error: *** JOB 1234 ON node01 CANCELLED AT 2024-01-01T00:00:00 DUE TO TIME LIMIT ***"),
    ("other", "RuntimeError: CUDA error: an illegal memory access was encountered"),
    ("other", "AssertionError: Torch not compiled with CUDA enabled"),
    ("other", "KeyError: 'input_ids'"),
    ("oom_gpu", "Traceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n    main()\ntorch.OutOfMemoryError: CUDA out of memory.\nSegmentation fault (core dumped)"),
];

#[test]
fn phrasings_beyond_the_corpus_get_their_class() {
    let database = builtin_database();
    let exit = ExitInfo {
        code: Some(1),
        ..ExitInfo::default()
    };
    let misses: Vec<String> = CASES
        .iter()
        .filter_map(|(class, log)| {
            let diagnosis = diagnose(log, &exit, database, &ProjectFiles::default(), &[]);
            (diagnosis.class != *class)
                .then(|| format!("expected {class}, got {}: {log}", diagnosis.class))
        })
        .collect();
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

#[test]
fn an_error_inside_a_dataloader_worker_is_the_workers_own_error() {
    let log = "Traceback (most recent call last):\n  File \"/w/train.py\", line 40, in <module>\n    for batch in loader:\n  File \"/usr/lib/python3/dist-packages/torch/_utils.py\", line 700, in reraise\n    raise exception\nFileNotFoundError: Caught FileNotFoundError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/torch/utils/data/_utils/worker.py\", line 308, in _worker_loop\n    data = fetcher.fetch(index)\n  File \"/w/dataset.py\", line 20, in __getitem__\n    image = Image.open(path)\nFileNotFoundError: [Errno 2] No such file or directory: 'img/0001.jpg'\n";
    let project = ProjectFiles {
        root: Some("/w".into()),
        files: Vec::new(),
    };
    let exit = ExitInfo::default();
    let diagnosis = diagnose(log, &exit, builtin_database(), &project, &[]);
    assert_eq!(diagnosis.class, "file_not_found");
    let location = diagnosis.location.unwrap();
    assert_eq!((location.file.as_str(), location.line), ("dataset.py", 20));
}

#[test]
fn a_torchrun_wrapper_defers_to_the_childs_exception() {
    let log = "[default0]:Traceback (most recent call last):\n[default0]:  File \"/w/train.py\", line 12, in <module>\n[default0]:    x = torch.empty(10**12, device='cuda')\n[default0]:torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 3.64 TiB.\nE0101 00:00:00.000000 1 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: 1)\nTraceback (most recent call last):\n  File \"/venv/bin/torchrun\", line 8, in <module>\n    sys.exit(main())\ntorch.distributed.elastic.multiprocessing.errors.ChildFailedError:\n============================================================\ntrain.py FAILED\n";
    let diagnosis = diagnose(
        log,
        &ExitInfo::default(),
        builtin_database(),
        &ProjectFiles::default(),
        &[],
    );
    assert_eq!(diagnosis.class, "oom_gpu");
}

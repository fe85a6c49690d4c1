#!/bin/sh
# One dfh experiment as a Slurm batch job, written by `dfh run` before each submission.
# It runs [run] command from dfh.toml in the project directory with the experiment's
# environment; Slurm writes its output to the experiment's log. The exit code goes to a file
# beside the log, which dfh reads once the job has ended (the project is on a filesystem
# that the login and compute nodes share).
cd @DIR@ || exit 1
@EXPORTS@
sh -c @COMMAND@
status=$?
echo "$status" > @EXIT_FILE@.part && mv -f @EXIT_FILE@.part @EXIT_FILE@
exit "$status"

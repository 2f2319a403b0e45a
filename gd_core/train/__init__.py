"""Training: the plan of a comparison (`plan.py`), one run's loop (`loop.py`, which picks its fast path), the
runner behind `run_experiment` (`runner.py`), runs of one batch size side by side (`stacked.py`), checkpoint
measurements (`checkpoints.py`), early stops (`stopping.py`) and the work and memory limits (`limits.py`)."""

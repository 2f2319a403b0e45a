"""The studies the pages show, built on `gd_core.train`: gradient noise (`noise.py`), steps to a target vs batch
size (`scaling.py`, `scaling_rules.py`), batch-size phases (`phases.py`), loss landscapes (`landscape.py`), the
optimizer page's lr sweep (`lr_sweep.py`) and the gradient-check page's tables (`gradient_checks.py`)."""

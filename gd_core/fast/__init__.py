"""Fast computations of what `gd_core.problems` defines: fused gradient kernels (`kernels.py`), the fused B = 1 loop
(`one_example.py`), chunked full batches on a thread pool (`full_batch.py`), checkpoint measurements
(`evaluation.py`), and runs side by side in one array (`stacked_kernels.py`, `stacked_window.py`). Each equals the
plain computation to float rounding (tests/fast/, tests/train/test_stacked.py); `gd_core.train` picks which one a
run uses. Imports only `gd_core.problems`."""

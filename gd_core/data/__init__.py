"""Data: the `Dataset` type and the pipeline every loader shares (`dataset.py`), the synthetic generators
(`synthetic.py`), a user's CSV (`csv.py`), and the order in which training examples are visited (`batching.py`).
Imports nothing else from the engine."""

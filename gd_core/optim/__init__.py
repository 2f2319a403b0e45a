"""Optimizers and learning rates: each update rule written once (`optimizers.py`: SGD with momentum and Nesterov,
Adagrad, RMSprop, Adam, AMSGrad, as torch.optim documents them), schedules and lr scaling by batch size
(`schedules.py`). Imports nothing else from the engine."""

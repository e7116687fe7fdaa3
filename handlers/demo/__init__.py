"""A realistic Liaocheng to explore (``city``) and ``qingliu demo`` (``cli``)."""

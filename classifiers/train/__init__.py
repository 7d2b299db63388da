"""Training and evaluation of the shipped text models (`crossingguard train` / `evaluate`)."""

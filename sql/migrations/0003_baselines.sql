-- optilog research log, schema version 3: each run's trivial baseline on its own validation
-- data, in the run's loss and metric — predicting the training targets' mean (regression) or
-- the training classes' prior (classification) — so that a table can say whether an optimizer
-- learned anything. NULL for runs logged before.

ALTER TABLE runs ADD COLUMN baseline_val_loss REAL;
ALTER TABLE runs ADD COLUMN baseline_val_metric REAL;

-- The study's results table: for each task and optimizer, the lowest validation loss any run
-- reached, the epoch where it was reached and the run (lowest run id on ties).
-- Parameter 1: a study id to restrict to, or NULL for every run in the store.
SELECT task, optimizer, best_val_loss, best_epoch, run_id
FROM (
    SELECT task, optimizer, best_val_loss, best_epoch, id AS run_id,
           ROW_NUMBER() OVER (PARTITION BY task, optimizer ORDER BY best_val_loss, id) AS rank
    FROM runs
    WHERE best_val_loss IS NOT NULL AND (?1 IS NULL OR study_id = ?1)
)
WHERE rank = 1
ORDER BY task, optimizer;

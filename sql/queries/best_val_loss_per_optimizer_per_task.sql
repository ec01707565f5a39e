-- The study's results table: for each task and optimizer, the lowest validation loss any run
-- reached, the epoch where it was reached and the run (lowest run id on ties) — within each
-- comparison: runs of a task stand side by side only on the same data (fingerprint of the
-- prepared arrays; synthetic data by name) and the same budget (epochs planned, batch size,
-- sample limits). Sources/Store/Queries/Comparison.swift builds the same key.
-- Archived runs (run_archive) are left out.
-- Parameter 1: a study id to restrict to, or NULL for every run in the store.
SELECT task, optimizer, best_val_loss, best_epoch, run_id, comparison
FROM (
    SELECT task, optimizer, best_val_loss, best_epoch, id AS run_id, comparison,
           ROW_NUMBER() OVER (PARTITION BY comparison, optimizer ORDER BY best_val_loss, id) AS rank
    FROM (
        SELECT r.*,
               r.task || '|' || CASE WHEN json_extract(r.model_configuration, '$.synthetic') THEN r.dataset ELSE r.dataset_fingerprint END
               || '|' || r.epochs_planned || '|' || r.batch_size || '|' || IFNULL(json_extract(r.model_configuration, '$.samples'), '')
               || '|' || IFNULL(json_extract(r.model_configuration, '$.validation_samples'), '') AS comparison
        FROM runs r
        WHERE r.best_val_loss IS NOT NULL AND (?1 IS NULL OR r.study_id = ?1)
          AND NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)
    )
)
WHERE rank = 1
ORDER BY task, optimizer, comparison;

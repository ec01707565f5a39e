-- The run each figure and comparison of a task shows for an optimizer: its lowest validation
-- loss (runs without one: the one with the most epochs; lowest run id on ties), among runs that
-- logged at least one epoch.
-- Parameters: :task, and :study (a study id to restrict to, or NULL for every run).
SELECT optimizer, run_id
FROM (
    SELECT optimizer, id AS run_id,
           ROW_NUMBER() OVER (PARTITION BY optimizer
                              ORDER BY best_val_loss IS NULL, best_val_loss, epochs_done DESC, id) AS rank
    FROM runs
    WHERE task = :task AND (:study IS NULL OR study_id = :study) AND epochs_done > 0
)
WHERE rank = 1
ORDER BY optimizer;

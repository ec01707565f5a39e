-- The run each figure and comparison of a task shows for an optimizer: its lowest validation
-- loss (runs without one: the one with the most epochs; lowest run id on ties), among runs that
-- logged at least one epoch and are not archived. optilog runs it only when the runs it selects are of one
-- comparison (the same data and budget; see best_val_loss_per_optimizer_per_task.sql).
-- Parameters: :task; :study (a study name, or NULL for every run); :dataset (a part of the data
-- set's name, or the start of its fingerprint; NULL for any); :comparison (a comparison key as
-- in best_val_loss_per_optimizer_per_task.sql, or NULL for any).
SELECT optimizer, run_id
FROM (
    SELECT optimizer, id AS run_id,
           ROW_NUMBER() OVER (PARTITION BY optimizer
                              ORDER BY best_val_loss IS NULL, best_val_loss, epochs_done DESC, id) AS rank
    FROM runs r
    WHERE task = :task AND (:study IS NULL OR study_id IN (SELECT id FROM studies WHERE name = :study)) AND epochs_done > 0
      AND NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)
      AND (:dataset IS NULL OR instr(lower(r.dataset), lower(:dataset)) > 0
           OR substr(r.dataset_fingerprint, 1, length(:dataset)) = lower(:dataset))
      AND (:comparison IS NULL OR :comparison =
           r.task || '|' || CASE WHEN json_extract(r.model_configuration, '$.synthetic') THEN r.dataset ELSE r.dataset_fingerprint END
           || '|' || r.epochs_planned || '|' || r.batch_size || '|' || IFNULL(json_extract(r.model_configuration, '$.samples'), '')
           || '|' || IFNULL(json_extract(r.model_configuration, '$.validation_samples'), ''))
)
WHERE rank = 1
ORDER BY optimizer;

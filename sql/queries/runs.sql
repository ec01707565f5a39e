-- The runs listing (`optilog runs`): newest first, with the study's name.
-- Parameters (NULL: no restriction): :task, :optimizer, :status, :study (a study name),
-- :since (Unix seconds: created since then); :ids (a JSON array of run ids: only those);
-- :archived (NULL: archived runs are left out; 1: only archived ones; 0: both); :limit.
SELECT r.*, s.name AS study_name
FROM runs r LEFT JOIN studies s ON s.id = r.study_id
WHERE (:task IS NULL OR r.task = :task)
  AND (:optimizer IS NULL OR r.optimizer = :optimizer)
  AND (:status IS NULL OR r.status = :status)
  AND (:study IS NULL OR s.name = :study)
  AND (:since IS NULL OR r.created_at >= :since)
  AND (:ids IS NULL OR r.id IN (SELECT value FROM json_each(:ids)))
  AND CASE :archived WHEN 0 THEN 1
                     WHEN 1 THEN EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)
                     ELSE NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id) END
ORDER BY r.created_at DESC, r.id DESC
LIMIT :limit;

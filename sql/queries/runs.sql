-- The runs listing (`optilog runs`): newest first, with the study's name.
-- Parameters (NULL: no restriction): :task, :optimizer, :status, :study (a study name),
-- :since (Unix seconds: created since then); :limit (at most this many rows).
SELECT r.*, s.name AS study_name
FROM runs r LEFT JOIN studies s ON s.id = r.study_id
WHERE (:task IS NULL OR r.task = :task)
  AND (:optimizer IS NULL OR r.optimizer = :optimizer)
  AND (:status IS NULL OR r.status = :status)
  AND (:study IS NULL OR s.name = :study)
  AND (:since IS NULL OR r.created_at >= :since)
ORDER BY r.created_at DESC, r.id DESC
LIMIT :limit;

-- The user's own tasks in the log (runs of a Keras model they brought): one row per task name
-- and identity — the model's architecture, loss, metric and starting weights. A task name
-- stands for one identity; `study` and `run` refuse a second.
SELECT task,
       json_extract(model_configuration, '$.custom.model_fingerprint') AS model_fingerprint,
       json_extract(model_configuration, '$.custom.loss') AS loss,
       json_extract(model_configuration, '$.custom.metric') AS metric,
       IFNULL(json_extract(model_configuration, '$.custom.initial_weights.fingerprint'), 'seeded') AS weights,
       MIN(id) AS first_run
FROM runs
WHERE json_extract(model_configuration, '$.architecture') = 'keras'
GROUP BY 1, 2, 3, 4, 5
ORDER BY task, first_run;

-- Runs `optilog resume --all` considers: interrupted ones, and running ones (optilog then skips
-- those a live process still owns: a live pid on this host, or a recent heartbeat from another).
-- Archived runs are left out (`optilog resume RUN` still resumes one by name).
SELECT * FROM runs r WHERE status IN ('interrupted', 'running')
  AND NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id) ORDER BY id;

-- Runs `optilog resume --all` considers: interrupted ones, and running ones (optilog then skips
-- those a live process still owns: a live pid on this host, or a recent heartbeat from another).
SELECT * FROM runs WHERE status IN ('interrupted', 'running') ORDER BY id;

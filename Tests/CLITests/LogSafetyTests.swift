import Foundation
import GRDB
import OptilogTestSupport
import XCTest

/// The log keeps what it committed whatever a user points optilog at: no output path replaces
/// the store or a device, no file that is not a sound optilog store is written, a publish
/// never leaves a corrupt destination, and hostile input is one error line, never a crash.
final class LogSafetyTests: XCTestCase {
    func optilog(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(builtExecutable("optilog"), arguments, environment: environment)
    }

    /// A file's bytes, or nil when it does not exist.
    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// A store whose last transactions are still in its `-wal` (the writer was killed in the
    /// middle of epoch 3): epochs 1–2 committed.
    func killedStore(_ dir: URL, _ name: String = "runs.sqlite") throws -> String {
        let db = dir.appendingPathComponent(name).path
        let r = try optilog(["run", "--task", "boston", "--optimizer", "sgd", "--epochs", "5", "--samples", "64", "--checkpoint-every", "0", "--db", db],
                            environment: ["OPTILOG_FAULT": "commit-epoch:3"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertGreaterThan(bytes(db + "-wal")?.count ?? 0, 0, "the kill left committed frames in the WAL")
        return db
    }

    func epochCount(_ db: String) throws -> String {
        try optilog(["sql", "SELECT COUNT(*) FROM epochs", "--db", db, "--format", "csv"]).stdout
    }

    // MARK: output paths

    /// `report -o`, `export -o`, `curves --svg` and `surface --svg` aimed at the store, at it
    /// through `./`, a symbolic or a hard link, or at its `-wal` or `-shm`: refused, one line,
    /// and the store's bytes (and its committed epochs, still in the WAL) unchanged.
    func testNoOutputPathReplacesTheStoreOrItsCompanions() throws {
        let dir = freshDirectory("optilog-outputs")
        let db = try killedStore(dir)
        let link = dir.appendingPathComponent("link.sqlite").path, hard = dir.appendingPathComponent("hard.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: db)
        try FileManager.default.linkItem(atPath: db, toPath: hard)
        let (main, wal) = (bytes(db), bytes(db + "-wal"))
        let relative = "./" + (db as NSString).lastPathComponent
        for target in [db, relative, link, hard, db + "-wal", db + "-shm"] {
            for command in [["report", "-o", target], ["export", "-o", target], ["curves", "--task", "boston", "--svg", target],
                            ["export", "-o", target, "--force"]] {
                let r = try runProcess(builtExecutable("optilog"), command + ["--db", db], environment: ["PWD": dir.path], directory: dir)
                XCTAssertEqual(r.status, 1, "\(command): \(r.stderr)")
                XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
                XCTAssertTrue(r.stderr.contains("refusing to write over it"), r.stderr)
            }
            let surface = try runProcess(builtExecutable("optilog"), ["surface", "--svg", target], environment: ["OPTILOG_DB": db], directory: dir)
            XCTAssertEqual(surface.status, 1, surface.stderr)
        }
        XCTAssertEqual(bytes(db), main)
        XCTAssertEqual(bytes(db + "-wal"), wal)
        XCTAssertEqual(try epochCount(db), "COUNT(*)\n2\n")
    }

    /// Devices, FIFOs and standard output are written in place (a device node is never replaced
    /// by a file); another SQLite file is overwritten only with --force; a plain file is replaced.
    func testDevicesFIFOsStandardOutputAndOtherFiles() throws {
        let dir = freshDirectory("optilog-devices")
        let db = dir.appendingPathComponent("runs.sqlite").path
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "2", "--samples", "64", "--db", db]).status, 0)
        func isCharacterDevice(_ path: String) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR
        }
        // As root, device nodes of our own (a regression must not take the system's with it).
        let null = getuid() == 0 ? dir.appendingPathComponent("null").path : "/dev/null"
        let full = dir.appendingPathComponent("full").path
        if getuid() == 0 {  // makedev(1, 3) and makedev(1, 7): the null and full devices
            XCTAssertEqual(mknod(null, S_IFCHR | 0o666, dev_t(1 << 8 | 3)), 0)
            XCTAssertEqual(mknod(full, S_IFCHR | 0o666, dev_t(1 << 8 | 7)), 0)
        }
        XCTAssertEqual(try optilog(["export", "-o", null, "--db", db]).status, 0)
        XCTAssertTrue(isCharacterDevice(null))
        if getuid() == 0 {
            let r = try optilog(["report", "-o", full, "--db", db])
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.stderr, "optilog: error: cannot write \(full): No space left on device\n")
            XCTAssertTrue(isCharacterDevice(full))
            // Nor does merge --publish replace a device (or wait on a FIFO).
            let published = try optilog(["merge", "--publish", db, "-o", null])
            XCTAssertEqual(published.status, 1)
            XCTAssertTrue(published.stderr.contains("not a regular file"), published.stderr)
            XCTAssertTrue(isCharacterDevice(null))
            XCTAssertFalse(FileManager.default.fileExists(atPath: null + "-shm"))
        }
        // /dev/stdout redirected to a file is written through the descriptor: appended to, as the
        // shell set it up, not replaced.
        let appended = dir.appendingPathComponent("appended.csv").path
        try "precious\n".write(toFile: appended, atomically: true, encoding: .utf8)
        let shell = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" export -o /dev/stdout --format csv --db \"$1\" >> \"$2\"",
                                                                    builtExecutable("optilog").path, db, appended])
        XCTAssertEqual(shell.status, 0, shell.stderr)
        let lines = try String(contentsOfFile: appended, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "precious")
        XCTAssertEqual(lines.count, 4)
        let stdout = try optilog(["export", "-o", "-", "--format", "csv", "--db", db])
        XCTAssertEqual(stdout.status, 0)
        XCTAssertEqual(stdout.stdout.split(separator: "\n").count, 3)
        // A FIFO: read by another thread while optilog writes into it.
        let fifo = dir.appendingPathComponent("pipe").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        final class Box: @unchecked Sendable { var data = Data() }
        let received = Box()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            received.data = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data()
            done.signal()
        }
        XCTAssertEqual(try optilog(["export", "-o", fifo, "--format", "ndjson", "--db", db]).status, 0)
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success, "nothing was written into the FIFO (was it replaced by a file?)")
        XCTAssertEqual(String(decoding: received.data, as: UTF8.self).split(separator: "\n").count, 2)
        var info = stat()
        XCTAssertTrue(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO is still a FIFO")
        // A FIFO as the store: refused at once (reading it would wait for a writer forever).
        let asStore = try optilog(["runs", "--db", fifo])
        XCTAssertEqual(asStore.stderr, "optilog: error: cannot open \(fifo): it is not an optilog store (not a regular file); nothing was changed\n")
        // Another SQLite file: only with --force.
        let other = dir.appendingPathComponent("other.sqlite").path
        let queue = try DatabaseQueue(path: other)
        try queue.write { try $0.execute(sql: "CREATE TABLE notes (x)") }
        try queue.close()
        let before = bytes(other)
        let refused = try optilog(["export", "-o", other, "--db", db])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr, "optilog: error: \(other) is an SQLite database; give --force to overwrite it\n")
        XCTAssertEqual(bytes(other), before)
        XCTAssertEqual(try optilog(["export", "-o", other, "--force", "--db", db]).status, 0)
        XCTAssertTrue(String(decoding: bytes(other) ?? Data(), as: UTF8.self).hasPrefix("run,uid,"))
        // A plain file: replaced, as any Unix tool would.
        let plain = dir.appendingPathComponent("old.csv").path
        try "old".write(toFile: plain, atomically: true, encoding: .utf8)
        XCTAssertEqual(try optilog(["export", "-o", plain, "--db", db]).status, 0)
        XCTAssertTrue(String(decoding: bytes(plain) ?? Data(), as: UTF8.self).hasPrefix("run,uid,"))
    }

    // MARK: files that are not sound optilog stores

    /// Another program's SQLite file (its own tables, or its own `runs` table; rollback or WAL
    /// mode), a store with a damaged page, a store of a newer schema: every writing command
    /// refuses with one line, and the file and its `-wal` keep every byte (no `-wal` or `-shm`
    /// appears beside a file that had none).
    func testForeignDamagedAndNewerStoresAreNeverWritten() throws {
        let dir = freshDirectory("optilog-foreign")
        var cases: [(String, String)] = []   // (path, expected words in the error)
        for (name, sql, wal) in [("notes.sqlite", "CREATE TABLE notes (x); INSERT INTO notes VALUES (1)", false),
                                 ("notes-wal.sqlite", "CREATE TABLE notes (x); INSERT INTO notes VALUES (1)", true),
                                 ("own-runs.sqlite", "CREATE TABLE runs (id INTEGER PRIMARY KEY, task TEXT)", false),
                                 ("app.sqlite", "PRAGMA application_id = 42; CREATE TABLE t (x)", false),
                                 ("view-only.sqlite", "CREATE VIEW v AS SELECT 1 AS x", false),
                                 ("versioned.sqlite", "PRAGMA user_version = 3", false)] {
            let path = dir.appendingPathComponent(name).path
            let queue = try DatabaseQueue(path: path)
            if wal { _ = try queue.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode = WAL") } }
            try queue.write { try $0.execute(sql: sql) }
            try queue.close()
            cases.append((path, "it is not an optilog store"))
        }
        // A store with one flipped byte in a page header (each b-tree page's type byte, in turn).
        let good = dir.appendingPathComponent("good.sqlite").path
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "sgd", "--epochs", "3", "--samples", "64", "--db", good]).status, 0)
        let original = try XCTUnwrap(bytes(good))
        let pageSize = Int(original[16]) << 8 | Int(original[17])
        var damagedCount = 0
        for page in 1..<(original.count / pageSize) where damagedCount < 6 {
            var copy = original
            guard [0x02, 0x05, 0x0A, 0x0D].contains(copy[page * pageSize]) else { continue }
            copy[page * pageSize] = 0x07
            let path = dir.appendingPathComponent("damaged-\(page).sqlite").path
            try copy.write(to: URL(fileURLWithPath: path))
            guard try integrityFails(path) else { continue }
            cases.append((path, "is damaged"))
            damagedCount += 1
        }
        XCTAssertGreaterThanOrEqual(damagedCount, 3)
        // A store of a newer optilog.
        let newer = dir.appendingPathComponent("newer.sqlite").path
        try original.write(to: URL(fileURLWithPath: newer))
        let queue = try DatabaseQueue(path: newer)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('0099_future')")
            try db.execute(sql: "PRAGMA user_version = 99")
        }
        try queue.close()
        for companion in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: newer + companion) }
        cases.append((newer, "was written by a newer optilog"))

        for (path, expected) in cases {
            let before = (bytes(path), bytes(path + "-wal"), bytes(path + "-shm"))
            for command in [["run", "--task", "boston", "--optimizer", "adam", "--epochs", "1", "--samples", "32"],
                            ["study", "--tasks", "boston", "--optimizers", "adam", "--epochs", "1"],
                            ["resume", "--all"], ["merge", good, "-o", path]] {
                let r = try optilog(command + (command[0] == "merge" ? [] : ["--db", path]))
                XCTAssertEqual(r.status, 1, "\(command) on \(path): \(r.stderr)")
                XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.hasPrefix("optilog: error:") }.count, 1, r.stderr)
                XCTAssertTrue(r.stderr.contains(expected), "\(path): \(r.stderr)")
            }
            XCTAssertEqual(bytes(path), before.0, "\(path) changed")
            XCTAssertEqual(bytes(path + "-wal"), before.1, "\(path)-wal changed")
            XCTAssertEqual(bytes(path + "-shm") != nil, before.2 != nil, "\(path)-shm appeared or vanished")
        }
        // The damaged ones point at verify and .recover.
        let damaged = try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "1", "--db", cases.first { $0.1 == "is damaged" }!.0])
        XCTAssertTrue(damaged.stderr.contains("optilog verify") && damaged.stderr.contains(".recover"), damaged.stderr)
    }

    /// PRAGMA integrity_check of a file, read without writing beside it.
    func integrityFails(_ path: String) throws -> Bool {
        var config = Configuration()
        config.readonly = true
        do {
            let queue = try DatabaseQueue(path: "file:\(path)?immutable=1", configuration: config)
            defer { try? queue.close() }
            return try queue.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") } != ["ok"]
        } catch {
            return true
        }
    }

    // MARK: publish

    /// `merge --publish` onto a store whose `-wal` still holds committed frames (of itself):
    /// the published file is whole and no stale `-wal` or `-shm` is left to be replayed onto it.
    /// Onto another store with such frames, or one a live process has open: refused, unchanged.
    /// A killed publish's temporary file is removed by the next one.
    func testPublishNeverCorruptsItsDestination() throws {
        let dir = freshDirectory("optilog-publish")
        let db = try killedStore(dir, "w.sqlite")
        let publish = try optilog(["merge", "--publish", db, "-o", db])
        XCTAssertEqual(publish.status, 0, publish.stderr)
        XCTAssertNil(bytes(db + "-wal"))
        XCTAssertNil(bytes(db + "-shm"))
        XCTAssertEqual(try epochCount(db), "COUNT(*)\n2\n")
        XCTAssertEqual(try optilog(["verify", "--db", db]).status, 0)

        let other = try killedStore(dir, "other.sqlite")
        let target = try killedStore(dir, "target.sqlite")
        let before = (bytes(target), bytes(target + "-wal"))
        let refused = try optilog(["merge", "--publish", other, "-o", target])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("holds committed transactions that are not in the source"), refused.stderr)
        XCTAssertEqual(bytes(target), before.0)
        XCTAssertEqual(bytes(target + "-wal"), before.1)

        // A live writer.
        let live = dir.appendingPathComponent("live.sqlite").path
        let writer = Process()
        writer.executableURL = builtExecutable("optilog")
        writer.arguments = ["run", "--task", "boston", "--optimizer", "adam", "--epochs", "100000", "--samples", "64", "--db", live]
        writer.standardOutput = FileHandle.nullDevice
        writer.standardError = FileHandle.nullDevice
        try writer.run()
        defer { if writer.isRunning { kill(writer.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while ["", "COUNT(*)\n0\n"].contains((try? epochCount(live)) ?? "") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let busy = try optilog(["merge", "--publish", db, "-o", live])
        XCTAssertEqual(busy.status, 1)
        XCTAssertEqual(busy.stderr, "optilog: error: \(live) is open in another process (a live SQLite connection); refusing to replace it under it\n")
        kill(writer.processIdentifier, SIGKILL)
        writer.waitUntilExit()

        // Temporary files of killed publishes (this host's, or of the old name form) go.
        let stale = [db + ".partial-999999999", db + ".partial-\(ProcessInfo.processInfo.hostName)-999999998"]
        for path in stale { _ = FileManager.default.createFile(atPath: path, contents: Data(count: 1000)) }
        XCTAssertEqual(try optilog(["merge", "--publish", other, "-o", db]).status, 0)
        for path in stale { XCTAssertFalse(FileManager.default.fileExists(atPath: path), path) }
    }

    // MARK: security

    /// Fixtures are read from the executable's memory: nothing is unpacked to the predictable
    /// `$TMPDIR/optilog-fixtures-<uid>` another user could swap, and a file squatting there
    /// changes nothing.
    func testFixturesAreNeverUnpackedToAFile() throws {
        let tmp = freshDirectory("optilog-tmpdir")
        let squatter = tmp.appendingPathComponent("optilog-fixtures-\(getuid())").path
        try "not a folder".write(toFile: squatter, atomically: true, encoding: .utf8)
        let r = try optilog(["datasets", "--format", "csv"], environment: ["TMPDIR": tmp.path, "HOME": tmp.path, "OPTILOG_DATA": ""])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 5)
        XCTAssertEqual(r.stdout.split(separator: "\n").dropFirst().filter { $0.contains("embedded fixture") }.count, 4)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path), ["optilog-fixtures-\(getuid())"])
    }

    /// SQL is judged by SQLite: a statement after a `;`, ATTACH in any form, a parameter without
    /// a value — one error line each; SQL that starts with a comment is SQL, not an option.
    func testSQLIsJudgedBySQLiteAndNeverCrashes() throws {
        let dir = freshDirectory("optilog-sql")
        let db = dir.appendingPathComponent("runs.sqlite").path
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "2", "--samples", "64", "--db", db]).status, 0)
        for (query, message) in [("SELECT :a", "parameter :a has no value: give --param a VALUE"),
                                 ("SELECT ?", "positional parameter ?1 is not supported: name it (:name) and give --param name VALUE"),
                                 ("SELECT optimizer FROM runs WHERE task = :t", "parameter :t has no value: give --param t VALUE"),
                                 (";ATTACH '\(dir.path)/x.sqlite' AS a", "only read-only statements are allowed here (SELECT, WITH, read-only PRAGMA)")] {
            let r = try optilog(["sql", query, "--db", db])
            XCTAssertEqual(r.status, 1, query)
            XCTAssertEqual(r.stderr, "optilog: error: \(message)\n", query)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/x.sqlite"))
        let commented = try optilog(["sql", "-- how many epochs\nSELECT COUNT(*) AS n FROM epochs", "--db", db, "--format", "csv"])
        XCTAssertEqual(commented.stdout, "n\n2\n", commented.stderr)
        // Only a word that starts with "--" and holds whitespace is taken for commented SQL: a
        // parameter value like "-1 2" stays where it is (a usage error for now: values that start
        // with a dash are the grammar's next issue).
        let negative = try optilog(["sql", "SELECT :a AS a", "--param", "a", "-1 2", "--db", db, "--format", "csv"])
        XCTAssertEqual(negative.status, 2, negative.stderr)
        XCTAssertEqual(negative.stdout, "")
        let extra = try optilog(["sql", "SELECT 1", "--param", "x", "3", "--db", db])
        XCTAssertEqual(extra.stderr, "optilog: error: --param x is not a parameter of the query\n")
    }

    // MARK: numbers, data and messages

    /// Numbers out of range are usage errors (exit 2) before anything is recorded; a training
    /// set that turns out empty names its file and records no run; an unknown study is named.
    func testBadNumbersEmptyDataAndUnknownStudiesRecordNothing() throws {
        let dir = freshDirectory("optilog-numbers")
        let db = dir.appendingPathComponent("runs.sqlite").path
        for option in [["--batch-size", "9223372036854775807"], ["--epochs", "9223372036854775807"], ["--samples", "9223372036854775807"],
                       ["--batch-size", "0"], ["--threads", "100000"], ["--checkpoint-every", "nan"], ["--checkpoint-epochs", "-1"]] {
            let r = try optilog(["run", "--task", "boston", "--optimizer", "adam"] + option + ["--db", db])
            XCTAssertEqual(r.status, 2, "\(option): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: db), "nothing recorded, no store made")
        XCTAssertEqual(try optilog(["resume", "--all", "--stale-after", "inf", "--db", db]).status, 2)
        XCTAssertEqual(try optilog(["sql", "SELECT 1", "--timeout", "1e300", "--db", db]).status, 2)
        XCTAssertEqual(try optilog(["study", "--epochs", "9223372036854775807", "--db", db]).status, 2)
        XCTAssertEqual(try optilog(["study", "--list-cells", "--seeds", "18446744073709551615"]).status, 2)
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "adam", "--seed", "18446744073709551615", "--db", db]).status, 2)
        // One house: Keras's 80% split leaves no training row.
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let fixture = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/boston_house_prices.csv").path, encoding: .utf8)
        try fixture.split(whereSeparator: \.isNewline).prefix(2).joined(separator: "\n").write(toFile: data.path + "/boston_house_prices.csv", atomically: true, encoding: .utf8)
        let empty = try optilog(["run", "--task", "boston", "--optimizer", "adam", "--data-dir", data.path, "--db", db])
        XCTAssertEqual(empty.status, 1)
        XCTAssertEqual(empty.stderr, "optilog: error: \(data.path)/boston_house_prices.csv: has 1 rows, too few to split 80/20 into training and test rows\n")
        XCTAssertEqual(try optilog(["sql", "SELECT COUNT(*) FROM runs", "--db", db, "--format", "csv"]).stdout, "COUNT(*)\n0\n")
        let study = try optilog(["run", "--task", "boston", "--optimizer", "adam", "--study-id", "999", "--db", db])
        XCTAssertEqual(study.status, 1)
        XCTAssertEqual(study.stderr, "optilog: error: not found: study 999 (this store has 0 studies; `optilog runs` lists their ids)\n")
    }

    /// A mistyped --data-dir is an error, not a silent fixture; one without the task's files is
    /// named with what was looked for; a resume looks where the run found its data, and says
    /// which folder it was once that is gone.
    func testDataDirectoriesAreNamedAndRemembered() throws {
        let dir = freshDirectory("optilog-datadir")
        let db = dir.appendingPathComponent("runs.sqlite").path
        let missing = try optilog(["run", "--task", "boston", "--optimizer", "adam", "--data-dir", dir.path + "/no-such", "--db", db])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "optilog: error: --data-dir \(dir.path)/no-such: no such folder\n")
        let emptyFolder = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: emptyFolder, withIntermediateDirectories: true)
        let note = try optilog(["train", "--task", "boston", "--epochs", "1", "--data-dir", emptyFolder.path], environment: ["HOME": dir.path, "OPTILOG_DATA": ""])
        XCTAssertEqual(note.status, 0, note.stderr)
        XCTAssertTrue(note.stderr.contains("optilog: note: --data-dir \(emptyFolder.path) holds no boston data (looked for boston_housing.npz or boston_house_prices.csv in --data-dir \(emptyFolder.path), "), note.stderr)
        XCTAssertTrue(note.stderr.contains("Keras cache "), "every place searched is named: \(note.stderr)")
        XCTAssertTrue(note.stderr.contains("); using Boston housing"), note.stderr)

        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/boston_house_prices.csv")
        var text = try String(contentsOf: fixture, encoding: .utf8)
        text = text.replacingOccurrences(of: ",4.98,24\r\n", with: ",4.98,24.5\r\n")    // not the fixture: its own fingerprint
        try text.write(to: data.appendingPathComponent("boston_house_prices.csv"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "2", "--data-dir", data.path, "--db", db]).status, 0)
        let resumed = try optilog(["resume", "1", "--epochs", "3", "--db", db], environment: ["HOME": dir.path, "OPTILOG_DATA": ""])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try FileManager.default.removeItem(at: data)
        let gone = try optilog(["resume", "1", "--epochs", "4", "--db", db], environment: ["HOME": dir.path, "OPTILOG_DATA": ""])
        XCTAssertEqual(gone.status, 1)
        XCTAssertEqual(gone.stderr, "optilog: error: run 1 was trained on data from \(data.path), which is gone; pass --data-dir with the folder that holds that data now\n")
    }

    /// Query commands read a schema-1 store as it is (they never migrate: it may be an archive
    /// on read-only media); a column holding a value of the wrong type is an error, not a trap.
    func testOldAndHandEditedStoresAreReadWithoutCrashing() throws {
        let dir = freshDirectory("optilog-schema1")
        let old = dir.appendingPathComponent("v1.sqlite").path
        let schema = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sql/migrations/0001_initial.sql"), encoding: .utf8)
        let queue = try DatabaseQueue(path: old)
        try queue.write { db in
            try db.execute(sql: schema)
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY); INSERT INTO grdb_migrations VALUES ('0001_initial');
                PRAGMA user_version = 1;
                INSERT INTO runs (uid, task, dataset, dataset_fingerprint, model_configuration, optimizer, optimizer_configuration,
                                  configuration_fingerprint, seed, batch_size, epochs_planned, epochs_done, status, host, code_version, created_at)
                VALUES ('u1', 'boston', 'd', 'f', '{}', 'adam', '{}', 'c', 1, 32, 5, 0, 'interrupted', 'h', 'v', 0);
                """)
        }
        try queue.close()
        for command in [["show", "1"], ["runs"], ["best"], ["export", "--format", "csv"]] {
            let r = try optilog(command + ["--db", old])
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
        }
        // A hand-edited column: resume names it instead of crashing.
        let db = dir.appendingPathComponent("edited.sqlite").path
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "2", "--samples", "64", "--db", db]).status, 0)
        let edit = try DatabaseQueue(path: db)
        try edit.write { try $0.execute(sql: "UPDATE runs SET checkpoint_epochs = 'lots', status = 'interrupted'") }
        try edit.close()
        for command in [["resume", "1", "--epochs", "3"], ["resume", "--all"]] {
            let r = try optilog(command + ["--db", db])
            XCTAssertEqual(r.status, 1, "\(command)")
            XCTAssertEqual(r.stderr, "optilog: error: corrupt data: run 1: column checkpoint_epochs holds \"lots\", not Int\n", "\(command)")
        }
    }

    /// A store on read-only media (an archive): every query command reads it, with a note. Needs
    /// root to mount a read-only tmpfs; skipped otherwise.
    func testQueriesReadAStoreOnReadOnlyMedia() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a read-only tmpfs needs root") }
        let mountPoint = freshDirectory("optilog-readonly").path
        guard shell("mount -t tmpfs -o size=16m tmpfs \(mountPoint)") == 0 else { throw XCTSkip("cannot mount tmpfs here") }
        defer { _ = shell("umount \(mountPoint)") }
        let db = mountPoint + "/archive.sqlite"
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "3", "--samples", "64", "--db", db]).status, 0)
        XCTAssertEqual(shell("mount -o remount,ro \(mountPoint)"), 0)
        for command in [["runs"], ["best"], ["show", "1"], ["sql", "SELECT COUNT(*) FROM epochs"], ["export", "--format", "csv"], ["verify"]] {
            let r = try optilog(command + ["--db", db])
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
        }
        let sql = try optilog(["sql", "SELECT COUNT(*) AS n FROM epochs", "--db", db, "--format", "csv"])
        XCTAssertEqual(sql.stdout, "n\n3\n")
        XCTAssertTrue(sql.stderr.contains("is read-only here"), sql.stderr)
    }

}

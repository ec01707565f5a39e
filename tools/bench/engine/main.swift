// optilog-bench: the engine's training throughput, GFLOP/s against this machine's measured
// GEMM peak, peak memory at full data-set size, and ratios against Keras measured in the same
// run (when a Python with Keras is given) and against the recorded peer table.
//
//   swift build -c release --product optilog-bench
//   .build/release/optilog-bench [--threads 1,2] [--tasks boston,fashion_mnist,imdb,jena]
//       [--memory] [--keras PYTHON] [--out FILE.md]
import Data
import Engine
import Foundation
import Study

BLAS.prepareProcess()

struct Options {
    var threads = [1, 2]
    var tasks = StudyTask.allCases
    var memory = false
    var keras: String?
    var out: String?
    var memoryChild: StudyTask?
    var store = false
    var logging = false
    var queries = false
    var peersStore = false
    var engine = true

    init(_ args: [String]) throws {
        var i = 1
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw BenchError("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--threads": threads = try value().split(separator: ",").compactMap { Int($0) }
            case "--tasks": tasks = try value().split(separator: ",").map { try Self.task(String($0)) }
            case "--memory": memory = true
            case "--store": store = true
            case "--store-only": store = true; engine = false
            case "--logging": logging = true
            case "--logging-only": logging = true; engine = false
            case "--queries": queries = true
            case "--queries-only": queries = true; engine = false
            case "--peers-store": peersStore = true; engine = false
            case "--keras": keras = try value()
            case "--out": out = try value()
            case "--memory-child": memoryChild = try Self.task(try value())
            case "-h", "--help":
                print("usage: optilog-bench [--threads 1,2] [--tasks boston,fashion_mnist,imdb,jena] [--memory] [--keras PYTHON] [--store | --store-only] [--logging | --logging-only] [--queries | --queries-only] [--out FILE.md]")
                exit(0)
            default: throw BenchError("unknown argument \(args[i])")
            }
            i += 1
        }
    }

    static func task(_ name: String) throws -> StudyTask {
        guard let a = StudyTask(rawValue: name) else { throw BenchError("unknown task \(name)") }
        return a
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Samples per timed epoch and timed epochs: the peers' settings (peer_timings.md).
func workload(_ task: StudyTask) -> (samples: Int, epochs: Int) {
    switch task {
    case .boston: return (404, 10)
    case .fashionMNIST: return (4096, 3)
    case .imdb: return (640, 3)
    case .jena: return (2048, 3)
    }
}

/// Full data-set sizes of the study, for the memory measurement.
func fullSize(_ task: StudyTask) -> Int {
    switch task {
    case .boston: return 404
    case .fashionMNIST: return 60_000
    case .imdb: return 25_000
    case .jena: return 100_000
    }
}

/// The best peer of ../shared/reference/peer_timings.md (2026-11-29, same machine kind,
/// contended): samples/s, and who reached it. The ratios against these are indicative only;
/// the side-by-side Keras column is the one that holds.
let recordedBestPeer: [StudyTask: (Double, String)] = [
    .boston: (22_522, "Keras/JAX"),
    .fashionMNIST: (1_644, "Keras/TF"),
    .imdb: (192, "PyTorch 1 thread"),
    .jena: (2_610, "Keras/JAX"),
]

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(1).joined() ?? "?"
}

/// Best of several 1024³ products: what this machine's sgemm reaches through the engine.
func gemmPeak(threads: Int) throws -> Double {
    BLAS.threads = threads
    let n = 1024
    let a = try Tensor(shape: [n, n], scalars: (0..<(n * n)).map { Float($0 % 17) * 0.01 })
    let b = try Tensor(shape: [n, n], scalars: (0..<(n * n)).map { Float($0 % 13) * 0.01 })
    _ = try a.matmul(b)
    var best = Double.infinity
    for _ in 0..<5 {
        let t0 = now()
        _ = try a.matmul(b)
        best = min(best, now() - t0)
    }
    return 2 * Double(n * n * n) / best / 1e9
}

struct Throughput {
    var samplesPerSecond: Double
    var epochSeconds: [Double]
    var warmup: Double
}

func throughput(_ task: StudyTask, threads: Int) throws -> Throughput {
    BLAS.threads = threads
    let (samples, epochs) = workload(task)
    let data = DataSplits(train: try SyntheticData.make(task, count: samples, seed: 1),
                          validation: try SyntheticData.make(task, count: 32, seed: 1, sampleStream: 2))
    let loop = try TrainingLoop(model: try task.build(seed: 1), optimizer: try Adam(), loss: task.loss, metric: task.metric,
                                data: data, configuration: TrainingConfiguration(epochs: epochs + 1, batchSize: 32, seed: 1))
    let t0 = now()
    _ = loop.runEpoch(0)
    let warmup = now() - t0
    let records = (1...epochs).map { loop.runEpoch($0) }
    return Throughput(samplesPerSecond: median(records.map { $0.row.samplesPerSecond ?? 0 }),
                      epochSeconds: records.map { Double(samples) / ($0.row.samplesPerSecond ?? 0) }, warmup: warmup)
}

/// Runs one epoch at full data-set size and reports this process's peak resident memory.
func memoryChild(_ task: StudyTask, threads: Int) throws {
    BLAS.threads = threads
    let n = fullSize(task)
    let t0 = now()
    let data = DataSplits(train: try SyntheticData.make(task, count: n, seed: 1),
                          validation: try SyntheticData.make(task, count: n / 5, seed: 1, sampleStream: 2))
    let loop = try TrainingLoop(model: try task.build(seed: 1), optimizer: try Adam(), loss: task.loss, metric: task.metric,
                                data: data, configuration: TrainingConfiguration(epochs: 1, batchSize: 32, seed: 1))
    let record = loop.runEpoch(0)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print("MEMORY \(task.rawValue) \(usage.ru_maxrss) \(n) \(String(format: "%.1f", now() - t0)) \(Int((record.row.samplesPerSecond ?? 0)))")
}

func runChild(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: arguments[0])
    p.arguments = Array(arguments.dropFirst())
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Keras (TensorFlow backend) on the same shapes, batch size, optimizer and epochs, through
/// tools/bench/keras_epoch.py; nil when no Python was given or the run failed.
func keras(_ python: String, _ task: StudyTask, threads: Int) -> Double? {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("keras_epoch.py").path
    let (samples, epochs) = workload(task)
    guard let out = try? runChild([python, script, task.rawValue, String(samples), String(epochs)],
                                  environment: ["BENCH_THREADS": String(threads), "KERAS_BACKEND": "tensorflow"]),
          let line = out.split(separator: "\n").first(where: { $0.hasPrefix("RESULT ") }),
          let json = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any]
    else { return nil }
    return (json["samples_per_s_median"] as? NSNumber)?.doubleValue
}

func f(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }

func engineBenchmark(_ options: Options, emit: (String) -> Void) throws {
    var peak: [Int: Double] = [:]
    for t in options.threads { peak[t] = try gemmPeak(threads: t) }
    emit("GEMM peak (1024³ sgemm through the engine, best of 5): "
         + options.threads.map { "\($0) thread\($0 == 1 ? "" : "s"): \(f(peak[$0]!, 1)) GFLOP/s" }.joined(separator: ", "))
    emit("")
    emit("Training throughput: Adam, batch 32, synthetic data of the canonical shapes, median of the timed epochs after one warm-up epoch.")
    emit("GFLOP/s counts 6 × forward MACs per sample (forward + backward), as the peer table does. For IMDB that is the")
    emit("dense-equivalent count: optilog runs the first Conv1D on the batch's distinct embedding rows and does less arithmetic.")
    emit("")
    var header = "| task | samples × epochs | threads | samples/s | epoch s (min–max) | warm-up s | GFLOP/s | % of GEMM peak | recorded best peer | optilog / recorded |"
    var rule = "|---|---|---|---|---|---|---|---|---|---|"
    if options.keras != nil { header += " Keras/TF here | optilog / Keras |"; rule += "---|---|" }
    emit(header)
    emit(rule)
    for task in options.tasks {
        let macs = try task.forwardMACs()
        let (samples, epochs) = workload(task)
        for t in options.threads {
            let r = try throughput(task, threads: t)
            let gflops = r.samplesPerSecond * 6 * Double(macs) / 1e9
            let (peer, who) = recordedBestPeer[task]!
            var row = "| \(task.rawValue) | \(samples) × \(epochs) | \(t) | \(f(r.samplesPerSecond)) | "
                + "\(f(r.epochSeconds.min()!, 3))–\(f(r.epochSeconds.max()!, 3)) | \(f(r.warmup, 2)) | \(f(gflops, 1)) | "
                + "\(f(100 * gflops / peak[t]!, 0))% | \(f(peer)) (\(who)) | \(f(r.samplesPerSecond / peer, 2))× |"
            if let python = options.keras {
                if let k = keras(python, task, threads: t) {
                    row += " \(f(k)) | \(f(r.samplesPerSecond / k, 2))× |"
                } else {
                    row += " failed | – |"
                }
            }
            emit(row)
        }
    }
    if options.memory {
        emit("")
        emit("Peak resident memory, one process per model: full-size synthetic data set, one training epoch.")
        emit("")
        emit("| task | samples | threads | peak RSS MB | seconds (data + epoch) | samples/s |")
        emit("|---|---|---|---|---|---|")
        for task in options.tasks {
            for t in options.threads {
                let out = try runChild([CommandLine.arguments[0], "--memory-child", task.rawValue, "--threads", String(t)])
                let parts = out.split(separator: "\n").first { $0.hasPrefix("MEMORY ") }?.split(separator: " ") ?? []
                guard parts.count == 6, let kb = Double(parts[2]) else { emit("| \(task.rawValue) | – | \(t) | failed | – | – |"); continue }
                emit("| \(task.rawValue) | \(parts[3]) | \(t) | \(f(kb / 1024, 0)) | \(parts[4]) | \(parts[5]) |")
            }
        }
    }
}

do {
    let options = try Options(CommandLine.arguments)
    if let task = options.memoryChild {
        try memoryChild(task, threads: options.threads.first ?? 1)
        exit(0)
    }
    var lines: [String] = []
    func emit(_ s: String) { print(s); fflush(nil); lines.append(s) }
    let host = ProcessInfo.processInfo
    emit("# optilog engine benchmark")
    emit("")
    emit("Date: \(ISO8601DateFormatter().string(from: Date())); \(host.processorCount) cores, \(host.physicalMemory >> 30) GiB; "
         + "OpenBLAS: \(BLAS.configuration); load average at start: \(loadAverage()).")
    emit("Command: `optilog-bench \(CommandLine.arguments.dropFirst().joined(separator: " "))`")
    emit("")

    if options.engine {
        try engineBenchmark(options, emit: emit)
    }
    if options.store {
        try storeBenchmark(emit: emit)
    }
    if options.logging {
        try loggingBenchmark(options, emit: emit)
    }
    if options.queries {
        try queryBenchmark(emit: emit)
    }
    if options.peersStore {
        try peerStoreBenchmark(emit: emit)
    }
    emit("")
    emit("Load average at end: \(loadAverage()).")
    if let out = options.out {
        try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
    }
} catch {
    FileHandle.standardError.write(Data("optilog-bench: error: \(error)\n".utf8))
    exit(1)
}

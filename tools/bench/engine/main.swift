// optilog-bench: the engine's training throughput, GFLOP/s against this machine's measured
// GEMM peak, peak memory at full data-set size, and ratios against Keras on TensorFlow and on
// JAX (and PyTorch with --torch) measured in the same run, interleaved, when a Python is given.
//
//   swift build -c release --product optilog-bench
//   .build/release/optilog-bench [--threads 1,2] [--tasks boston,fashion_mnist,imdb,jena]
//       [--memory] [--keras PYTHON [--backends tensorflow,jax] [--torch] [--rounds N]] [--out FILE.md]
//   .build/release/optilog-bench --custom [--rounds N]   (your own Keras model of each built-in shape vs the built-in one)
import CKernels
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
    /// Interleaved rounds of every measurement (optilog and each peer, task by task).
    var rounds: Int?
    /// Peers to run with --keras: Keras on these backends, and PyTorch when its script runs.
    var backends = ["tensorflow", "jax"]
    var torch = false
    /// A user's Keras model of each built-in shape against the built-in model.
    var custom = false

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
            case "--custom": custom = true; engine = false
            case "--keras": keras = try value()
            case "--rounds": rounds = Int(try value())
            case "--backends": backends = try value().split(separator: ",").map(String.init)
            case "--torch": torch = true
            case "--out": out = try value()
            case "--memory-child": memoryChild = try Self.task(try value())
            case "-h", "--help":
                print("usage: optilog-bench [--threads 1,2] [--tasks boston,fashion_mnist,imdb,jena] [--memory] [--keras PYTHON [--backends tensorflow,jax] [--torch] [--rounds N]] [--store | --store-only] [--logging | --logging-only] [--queries | --queries-only] [--custom] [--out FILE.md]")
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

/// `model`: another network for the task's data (a user's Keras model of its shape); default the built-in one.
func throughput(_ task: StudyTask, threads: Int, model: (() throws -> Sequential)? = nil) throws -> Throughput {
    BLAS.threads = threads
    let (samples, epochs) = workload(task)
    let data = DataSplits(train: try SyntheticData.make(task, count: samples, seed: 1),
                          validation: try SyntheticData.make(task, count: 32, seed: 1, sampleStream: 2))
    let built = try model?() ?? task.build(seed: 1)
    let loop = try TrainingLoop(model: built, optimizer: try Adam(), loss: task.loss, metric: task.metric,
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

/// A peer on the same shapes, batch size, optimizer (Adam) and epochs, kept to `threads` cores:
/// Keras on `backend` through tools/bench/keras_epoch.py, or PyTorch (backend "torch") through
/// torch_epoch.py. Median samples/s of the timed epochs; nil when the run failed.
func peer(_ python: String, backend: String, _ task: StudyTask, threads: Int) -> Double? {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(backend == "torch" ? "torch_epoch.py" : "keras_epoch.py").path
    let (samples, epochs) = workload(task)
    guard let out = try? runChild([python, script, task.rawValue, String(samples), String(epochs)],
                                  environment: ["BENCH_THREADS": String(threads), "KERAS_BACKEND": backend]),
          let line = out.split(separator: "\n").first(where: { $0.hasPrefix("RESULT ") }),
          let json = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any]
    else { return nil }
    return (json["samples_per_s_median"] as? NSNumber)?.doubleValue
}

let peerNames = ["tensorflow": "Keras/TF", "jax": "Keras/JAX", "torch": "PyTorch"]

func f(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }

func engineBenchmark(_ options: Options, emit: (String) -> Void) throws {
    var peak: [Int: Double] = [:]
    for t in options.threads { peak[t] = try gemmPeak(threads: t) }
    emit("GEMM peak (1024³ sgemm through the engine, best of 5): "
         + options.threads.map { "\($0) thread\($0 == 1 ? "" : "s"): \(f(peak[$0]!, 1)) GFLOP/s" }.joined(separator: ", "))
    emit("")
    let peers = options.keras == nil ? [] : options.backends + (options.torch ? ["torch"] : [])
    let rounds = max(1, options.rounds ?? (peers.isEmpty ? 1 : 2))
    emit("Training throughput: Adam, batch 32, synthetic data of the canonical shapes, median samples/s of the timed epochs after one warm-up epoch.")
    if !peers.isEmpty {
        emit("Peers (\(peers.map { peerNames[$0] ?? $0 }.joined(separator: ", "))) run the same models, shapes, batch, optimizer and epochs, kept to the same number of cores; "
             + "\(rounds) round\(rounds == 1 ? "" : "s"), each measuring optilog and then every peer, model by model and thread count by thread count. "
             + "Ranges are min–max over the rounds; the ratio is optilog / the best peer of the same round.")
    }
    emit("GFLOP/s counts 6 × forward MACs per sample (forward + backward). For IMDB that is the dense-equivalent count: optilog runs")
    emit("the first Conv1D on the batch's distinct embedding rows and does less arithmetic.")
    emit("")
    struct Cell { var optilog: [Double] = []; var peers: [String: [Double?]] = [:]; var gflops: [Double] = [] }
    var cells: [String: Cell] = [:]
    for round in 1...rounds {
        for task in options.tasks {
            let macs = try task.forwardMACs()
            for t in options.threads {
                let key = "\(task.rawValue) \(t)"
                let r = try throughput(task, threads: t)
                cells[key, default: Cell()].optilog.append(r.samplesPerSecond)
                cells[key, default: Cell()].gflops.append(r.samplesPerSecond * 6 * Double(macs) / 1e9)
                for p in peers {
                    cells[key, default: Cell()].peers[p, default: []].append(peer(options.keras!, backend: p, task, threads: t))
                }
                if rounds > 1 { print("round \(round): \(key) optilog \(f(r.samplesPerSecond))" + peers.map { " \($0) " + (cells[key]!.peers[$0]!.last!.map { f($0) } ?? "failed") }.joined()) }
            }
        }
    }
    func range(_ v: [Double]) -> String {
        guard let lo = v.min(), let hi = v.max() else { return "failed" }
        return f(lo) == f(hi) ? f(lo) : "\(f(lo))–\(f(hi))"
    }
    func ratioRange(_ v: [Double]) -> String {
        guard let lo = v.min(), let hi = v.max() else { return "–" }
        return f(lo, 2) == f(hi, 2) ? "\(f(lo, 2))×" : "\(f(lo, 2))–\(f(hi, 2))×"
    }
    var header = "| task | samples × epochs | threads | optilog samples/s | GFLOP/s | % of GEMM peak |"
    var rule = "|---|---|---|---|---|---|"
    for p in peers { header += " \(peerNames[p] ?? p) |"; rule += "---|" }
    if !peers.isEmpty { header += " best peer | optilog / best peer |"; rule += "---|---|" }
    emit(header)
    emit(rule)
    for task in options.tasks {
        let (samples, epochs) = workload(task)
        for t in options.threads {
            let c = cells["\(task.rawValue) \(t)"]!
            let gflops = median(c.gflops)
            var row = "| \(task.rawValue) | \(samples) × \(epochs) | \(t) | \(range(c.optilog)) | \(f(gflops, 1)) | \(f(100 * gflops / peak[t]!, 0))% |"
            for p in peers { row += " \(range(c.peers[p]!.compactMap { $0 })) |" }
            if !peers.isEmpty {
                // Per round: optilog against the fastest peer of that round.
                var ratios: [Double] = [], winners: [String] = []
                for i in 0..<c.optilog.count {
                    let measured = peers.compactMap { p in c.peers[p]![i].map { (p, $0) } }
                    guard let best = measured.max(by: { $0.1 < $1.1 }) else { continue }
                    ratios.append(c.optilog[i] / best.1)
                    winners.append(peerNames[best.0] ?? best.0)
                }
                let names = Array(Set(winners)).sorted().joined(separator: ", ")
                row += " \(names.isEmpty ? "–" : names) | \(ratioRange(ratios)) |"
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
         + "OpenBLAS: \(BLAS.configuration); LSTM kernel: \(String(cString: optilog_lstm_kernel_variant())); load average at start: \(loadAverage()).")
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
    if options.custom {
        try customModelBenchmark(options, emit: emit)
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

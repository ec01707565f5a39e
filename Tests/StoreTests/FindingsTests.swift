import Foundation
import XCTest
@testable import Store

/// The published claims checked on a constructed study: every curve is written by hand, so each
/// verdict and number below follows from the definitions (README, "Findings").
final class FindingsTests: XCTestCase {
    /// Three seeds per optimizer; seed s adds (s − 2) × jitter to every value, so the mean over
    /// seeds is the curve as written and the sd is `jitter`.
    func study(_ tasks: [(task: String, baseline: Double, curves: [String: (val: [Double], train: [Double]?)], jitter: Double)],
               configuration: (String) -> String = { _ in "{\"learning_rate\": 0.001}" }) throws -> ReadOnlyStore {
        let store = try Store(path: temporaryStorePath("findings"))
        try fill(store, study: "study-seed", studyConfiguration: "{}", tasks, configuration: configuration)
        return store.reader
    }

    func fill(_ store: Store, study name: String, studyConfiguration: String,
              _ tasks: [(task: String, baseline: Double, curves: [String: (val: [Double], train: [Double]?)], jitter: Double)],
              configuration: (String) -> String) throws {
        let study = try store.study(named: name, configuration: studyConfiguration)
        for (task, baseline, curves, jitter) in tasks {
            for (key, curve) in curves.sorted(by: { $0.key < $1.key }) {
                // A key "adam@X" is Adam with the configuration X (a sweep's cell).
                let optimizer = String(key.prefix { $0 != "@" })
                let config = key.contains("@") ? String(key.drop { $0 != "@" }.dropFirst()) : configuration(optimizer)
                for seed in 1...3 {
                    let shift = Double(seed - 2) * jitter
                    let run = NewRun(studyID: study, task: task, dataset: "constructed", datasetFingerprint: "data-\(task)", modelConfiguration: "{}",
                                     optimizer: optimizer, optimizerConfiguration: config, configurationFingerprint: "c\(seed)\(config)",
                                     seed: UInt64(seed), batchSize: 32, epochsPlanned: curve.val.count, codeVersion: "test", baselineValLoss: baseline)
                    let owned = try XCTUnwrap(try store.createStudyRun(run))
                    for (i, v) in curve.val.enumerated() {
                        let train = (curve.train?[i] ?? v + 0.1) + shift
                        try store.commitEpoch(
                            EpochCommit(row: Epoch(epoch: i + 1, loss: train, metric: nil, valLoss: v + shift, valMetric: nil, gradNormMean: 1,
                                                   gradNormMin: 1, gradNormMax: 1, gradNormLast: 1, learningRate: 0.001, optimizerChecksum: "x",
                                                   seconds: 1, samplesPerSecond: 1),
                                        firstStep: i, stepLosses: [Float(train)], stepGradNorms: [1], layerNorms: [], checkpoint: nil),
                            run: owned)
                    }
                    try store.setStatus(run: owned, .completed)
                }
            }
        }
    }

    static let boston: [String: (val: [Double], train: [Double]?)] = [
        "adadelta": ([6.0, 6.0, 5.95, 5.9, 5.9], nil),  // final 5.9 ≥ 0.9 × 6: does not converge
        "adagrad": ([5.5, 5.0, 4.5, 4.0, 3.5], nil),  // 1.75× the best, lowest at epoch 5 of 5: slow
        "ftrl": ([5.8, 5.2, 4.6, 4.2, 4.0], nil),  // 2.0×, lowest at epoch 5: slow
        "adam": ([4.0, 3.0, 2.5, 2.2, 2.1], nil),
        "adamax": ([4.0, 3.0, 2.6, 2.4, 2.3], nil),
        "nadam": ([4.0, 3.0, 2.4, 2.2, 2.15], nil),
        "rmsprop": ([3.5, 2.5, 2.0, 2.05, 2.1], nil),  // the best, 0.1 below Adam with sd 0.01: a winner
        "sgd": ([4.0, 5.0, 3.0, 3.5, 2.4], nil),  // 1.2×: reaches; path 1 + 2 + 0.5 + 1.1 = 4.6 over a descent of 1.6: 1.875
    ]

    static let imdb: [String: (val: [Double], train: [Double]?)] = {
        // Six optimizers overfit (val rises 30% after its minimum at epoch 2 while training falls).
        var c: [String: (val: [Double], train: [Double]?)] = [:]
        for o in ["adadelta", "adagrad", "adamax", "ftrl", "nadam", "sgd"] { c[o] = ([0.6, 0.5, 0.55, 0.6, 0.65], [0.6, 0.4, 0.3, 0.2, 0.1]) }
        c["adam"] = ([0.42, 0.41, 0.41, 0.41, 0.41], [0.5, 0.45, 0.4, 0.35, 0.3])  // reaches the target 0.429 at epoch 1
        c["rmsprop"] = ([0.5, 0.4, 0.41, 0.41, 0.41], [0.5, 0.4, 0.35, 0.3, 0.3])  // the best, 0.4, reached at epoch 2
        return c
    }()

    static let jena: [String: (val: [Double], train: [Double]?)] = {
        var c: [String: (val: [Double], train: [Double]?)] = [:]
        for o in ["adadelta", "adamax", "sgd"] { c[o] = ([3.0, 2.8, 2.7], nil) }
        c["ftrl"] = ([4.0, 3.8, 3.6], nil)  // 1.8× the best: misses the minimum
        c["nadam"] = ([2.5, 2.2, 2.1], nil)  // 1.05×: finds it (so the claim about Ftrl and Nadam fails)
        c["adagrad"] = ([3.5, 3.2, 3.0], nil)  // 1.5× and converging (baseline 8): sub-optimal
        c["adam"] = ([2.4, 2.1, 2.0], nil)
        c["rmsprop"] = ([2.4, 2.1, 2.005], nil)  // 0.005 from Adam with sd 0.05 each: not separable
        return c
    }()

    func verdicts(_ checks: [ClaimCheck]) -> [String: ClaimCheck.Verdict] {
        Dictionary(checks.map { ("\($0.task): \($0.claim)", $0.verdict) }, uniquingKeysWith: { a, _ in a })
    }

    func testEachClaimOnAConstructedStudy() throws {
        let reader = try study([("boston", 6.0, Self.boston, 0.01), ("imdb", 0.69, Self.imdb, 0.001), ("jena", 8.0, Self.jena, 0.05)])
        let (checks, notes) = try reader.findings(study: "study-seed")
        XCTAssertEqual(notes, [])
        let v = verdicts(checks)
        XCTAssertEqual(checks.count, 16)
        XCTAssertEqual(v["boston: Adadelta does not converge"], .agrees)
        XCTAssertEqual(v["boston: Adagrad and Ftrl converge slowly, sub-optimally"], .agrees)
        XCTAssertEqual(v["boston: Adam, Adamax, Nadam, RMSprop and SGD reach a minimum"], .agrees)
        XCTAssertEqual(v["boston: SGD is irregular"], .agrees)
        XCTAssertEqual(v["boston: RMSprop is best in absolute terms"], .agrees)
        for claim in ["Adadelta and Ftrl behave badly", "Adam has the best overall behaviour", "RMSprop converges fastest"] {
            XCTAssertEqual(v["fashion_mnist: \(claim)"], .notEnoughRuns, claim)
        }
        XCTAssertEqual(v["imdb: Most optimizers overfit"], .agrees)
        XCTAssertEqual(v["imdb: RMSprop reaches the best absolute value"], .agrees)
        XCTAssertEqual(v["imdb: Adam converges most efficiently"], .agrees)
        XCTAssertEqual(v["jena: Ftrl and Nadam do not find the minimum"], .disagrees)
        XCTAssertEqual(v["jena: Adagrad converges sub-optimally"], .agrees)
        XCTAssertEqual(v["jena: Adam and RMSprop are best"], .agrees)
        XCTAssertEqual(v["all: Adam is a good first candidate on different problems"], .agrees)
        XCTAssertEqual(v["all: The learning rate is the most important hyperparameter"], .notEnoughRuns)
        // The numbers behind them, from the curves above.
        let evidence = Dictionary(checks.map { ("\($0.task): \($0.claim)", $0.evidence) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(evidence["boston: Adadelta does not converge"], "adadelta final 5.9 ± 0.01 vs baseline 6")
        XCTAssertTrue(evidence["boston: SGD is irregular"]!.contains("sgd 1.875"), evidence["boston: SGD is irregular"]!)
        XCTAssertEqual(evidence["imdb: Most optimizers overfit"], "6 of 8 overfit: adadelta, adagrad, adamax, ftrl, nadam, sgd")
        XCTAssertTrue(evidence["imdb: Adam converges most efficiently"]!.hasPrefix("adadelta never, adagrad never, adam epoch 1,"), evidence["imdb: Adam converges most efficiently"]!)
        XCTAssertTrue(evidence["imdb: Adam converges most efficiently"]!.hasSuffix("(target val_loss 0.429)"), evidence["imdb: Adam converges most efficiently"]!)
        XCTAssertEqual(evidence["jena: Ftrl and Nadam do not find the minimum"], "ftrl 3.6 ± 0.05 (3) = 1.80× the best; nadam 2.1 ± 0.05 (3) = 1.05× the best")
        XCTAssertEqual(evidence["all: Adam is a good first candidate on different problems"], "mean rank 1.67: boston 2, imdb 2, jena 1")
    }

    /// A disagreement is reported as one: Adadelta converging on Boston, SGD smooth.
    func testDisagreementsAndSettingNotes() throws {
        var boston = Self.boston
        boston["adadelta"] = ([4.0, 3.0, 2.6, 2.4, 2.3], nil)
        boston["sgd"] = ([4.0, 3.0, 2.6, 2.45, 2.4], nil)
        boston["ftrl"] = ([6.0, 5.95, 5.9, 5.85, 5.8], nil)  // flat: 5.8 > 0.9 × 6, not "slow"
        let reader = try study([("boston", 6.0, boston, 0.01)],
                               configuration: { $0 == "sgd" ? "{\"learning_rate\": 0.01}" : "{\"learning_rate\": 0.001}" })
        let (checks, notes) = try reader.findings(study: "study-seed")
        let v = verdicts(checks)
        XCTAssertEqual(v["boston: Adadelta does not converge"], .disagrees)
        XCTAssertEqual(v["boston: SGD is irregular"], .disagrees)
        XCTAssertEqual(v["boston: Adagrad and Ftrl converge slowly, sub-optimally"], .disagrees)
        XCTAssertTrue(checks.first { $0.claim.hasPrefix("Adagrad and Ftrl") }!.evidence.hasSuffix("from 6 at epoch 1 to 5.8 (it does not fall)"))
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].hasPrefix("sgd ran at learning_rate 0.01;"), notes[0])
    }

    /// The last claim reads studies that sweep the learning rate alone, on the same data and
    /// budget, on at least two tasks.
    func testTheLearningRateClaimReadsLearningRateSweepsOnly() throws {
        let store = try Store(path: temporaryStorePath("findings-lr"))
        let lr = { (v: String) in #"{"learning_rate": \#(v)}"# }
        try fill(store, study: "study-seed", studyConfiguration: "{}", [("boston", 6.0, Self.boston, 0.01), ("jena", 8.0, Self.jena, 0.05)],
                 configuration: { _ in lr("0.001") })
        let claim = "all: The learning rate is the most important hyperparameter"
        XCTAssertEqual(verdicts(try store.reader.findings(study: "study-seed").findings)[claim], .notEnoughRuns)
        // A momentum grid with a wide spread is not a learning-rate sweep.
        let momentum: [String: (val: [Double], train: [Double]?)] = [
            #"sgd@{"momentum": 0.0}"#: ([30, 30, 30, 30, 30], nil), #"sgd@{"momentum": 0.9}"#: ([2, 2, 2, 2, 2], nil),
        ]
        try fill(store, study: "momentum", studyConfiguration: #"{"sweep": {"grid": ["momentum=0,0.9"]}}"#, [("boston", 6.0, momentum, 0.01)],
                 configuration: { _ in "" })
        XCTAssertEqual(verdicts(try store.reader.findings(study: "study-seed").findings)[claim], .notEnoughRuns)
        // Adam at three learning rates on both tasks: spreads of 17 (Boston) and 10 (Jena), against
        // 3.9 and 1.6 over the optimizers at their defaults.
        let boston: [String: (val: [Double], train: [Double]?)] = [
            "adam@" + lr("0.0001"): ([20, 20, 20, 20, 20], nil), "adam@" + lr("0.001"): ([5, 4, 4, 4, 4], nil), "adam@" + lr("0.1"): ([3, 3, 3, 3, 3], nil),
        ]
        let jena: [String: (val: [Double], train: [Double]?)] = [
            "adam@" + lr("0.0001"): ([12, 12, 12], nil), "adam@" + lr("0.001"): ([3, 2.5, 2.5], nil), "adam@" + lr("0.1"): ([2, 2, 2], nil),
        ]
        try fill(store, study: "sweep", studyConfiguration: #"{"sweep": {"lr_sweep": 3}}"#, [("boston", 6.0, boston, 0.01), ("jena", 8.0, jena, 0.01)],
                 configuration: { _ in "" })
        let checks = try store.reader.findings(study: "study-seed").findings
        XCTAssertEqual(verdicts(checks)[claim], .agrees)
        XCTAssertEqual(checks.first { "\($0.task): \($0.claim)" == claim }?.evidence, "boston 17 (lr) vs 3.9 (optimizers); jena 10 (lr) vs 1.6 (optimizers)")
        XCTAssertTrue(Findings.sweepsLearningRateOnly(#"{"sweep": {"set": ["momentum=0.9"], "grid": ["learning_rate=0.01,0.1"]}}"#))
        XCTAssertFalse(Findings.sweepsLearningRateOnly(#"{"sweep": {"grid": ["learning_rate=0.01,0.1", "momentum=0,0.9"]}}"#))
        XCTAssertFalse(Findings.sweepsLearningRateOnly("{}"))
    }

    /// A run still training counts with what it logged, and a note says so.
    func testUnfinishedRunsAreNamed() throws {
        let store = try Store(path: temporaryStorePath("findings-unfinished"))
        try fill(store, study: "study-seed", studyConfiguration: "{}", [("boston", 6.0, Self.boston, 0.01)], configuration: { _ in #"{"learning_rate": 0.001}"# })
        let study = try store.study(named: "study-seed", configuration: "{}")
        let run = NewRun(studyID: study, task: "jena", dataset: "d", datasetFingerprint: "data-jena", modelConfiguration: "{}", optimizer: "adam",
                         optimizerConfiguration: #"{"learning_rate": 0.001}"#, configurationFingerprint: "x", seed: 1, batchSize: 32,
                         epochsPlanned: 3, codeVersion: "test", baselineValLoss: 8)
        let owned = try XCTUnwrap(try store.createStudyRun(run))
        try store.commitEpoch(sampleEpoch(1, valLoss: 3), run: owned)
        try store.commitEpoch(sampleEpoch(2, valLoss: 2.5), run: owned)
        let notes = try store.reader.findings(study: "study-seed").notes
        XCTAssertEqual(notes, ["1 run(s) of the study have not finished; where their data and budget are the ones checked, they count with the epochs "
                               + "they logged (jena adam seed 1: 2/3 epochs, running)"])
    }

    /// Claims about one setting per optimizer are not checked on a sweep.
    func testASweptStudyIsRefused() throws {
        let path = temporaryStorePath("findings-sweep")
        let store = try Store(path: path)
        let study = try store.study(named: "swept", configuration: "{}")
        for lr in ["0.001", "0.01"] {
            let run = NewRun(studyID: study, task: "boston", dataset: "d", datasetFingerprint: "d", modelConfiguration: "{}", optimizer: "adam",
                             optimizerConfiguration: "{\"learning_rate\": \(lr)}", configurationFingerprint: lr, seed: 1, batchSize: 32,
                             epochsPlanned: 1, codeVersion: "test")
            let owned = try XCTUnwrap(try store.createStudyRun(run))
            try store.commitEpoch(sampleEpoch(1, valLoss: 3), run: owned)
        }
        XCTAssertThrowsError(try store.reader.findings(study: "swept")) { error in
            XCTAssertTrue("\(error)".contains("several settings"), "\(error)")
        }
        XCTAssertThrowsError(try store.reader.findings(study: "nothing"))
    }
}

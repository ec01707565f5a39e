import Foundation

/// An executable of this package built next to the test bundle (`swift test` builds them all).
public func builtExecutable(_ name: String) -> URL {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [directory, directory.deletingLastPathComponent()] {
        let url = candidate.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return directory.appendingPathComponent(name)
}

/// A fresh folder under the system's temporary directory.
public func freshDirectory(_ prefix: String = "optilog-tests") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// What a finished process said.
public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        (self.status, self.stdout, self.stderr) = (status, stdout, stderr)
    }
}

/// Runs an executable to the end, collecting both outputs; `environment` entries are added to
/// this process's environment; `directory`: its working directory.
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let err = Pipe(), out = Pipe()
    process.standardError = err
    process.standardOutput = out
    try process.run()
    // stderr is drained on another thread so that neither pipe can fill up and stall the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let errorData = Box()
    let drained = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        errorData.data = err.fileHandleForReading.readDataToEndOfFile()
        drained.signal()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    drained.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errorData.data, as: UTF8.self))
}

/// Starts an executable in the background, its output discarded.
@discardableResult
public func launchProcess(_ executable: URL, _ arguments: [String]) throws -> Process {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

/// Runs a shell command to the end, its output discarded; its exit status.
@discardableResult
public func shell(_ command: String) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try? p.run()
    p.waitUntilExit()
    return p.terminationStatus
}

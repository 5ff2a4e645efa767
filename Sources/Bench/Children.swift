import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process the benchmark started (`cairn serve`, `moto_server`), with its output captured to a log file.
///
/// Every child is registered in ``Children`` so that it is stopped on every path out of the benchmark: normal end,
/// error, signal or watchdog.
final class ChildProcess: @unchecked Sendable {
    /// A short name for messages.
    let name: String
    /// Where stdout and stderr go.
    let logPath: String
    private let process: Process

    /// Starts `executable` with `arguments`; its output goes to `logPath`.
    ///
    /// - Throws: when the executable cannot be started.
    init(name: String, executable: String, arguments: [String], environment: [String: String] = [:], logPath: String) throws {
        self.name = name
        self.logPath = logPath
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw BenchError("cannot create \(logPath)")
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        self.process = process
        try process.run()
        Children.shared.register(process.processIdentifier)
    }

    /// Whether the process is still running.
    var isRunning: Bool { process.isRunning }

    /// The process id.
    var pid: Int32 { process.processIdentifier }

    /// The last lines of the captured output, for error messages.
    func logTail(_ lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Stops the process: SIGTERM, then SIGKILL if it has not exited after `grace`.
    func stop(grace: Duration = .seconds(5)) async {
        defer { Children.shared.unregister(pid) }
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// The ids of every child still running, for the emergency stop on signals and the watchdog.
final class Children: Sendable {
    /// The one registry of the process.
    static let shared = Children()
    private let pids = Mutex<Set<Int32>>([])

    /// Remembers a started child.
    func register(_ pid: Int32) { _ = pids.withLock { $0.insert(pid) } }

    /// Forgets a stopped child.
    func unregister(_ pid: Int32) { _ = pids.withLock { $0.remove(pid) } }

    private let scratch = Mutex<String?>(nil)

    /// Kills every registered child (by its own id) with `signal`; used when the benchmark cannot stop them in order.
    func killAll(_ signal: Int32 = SIGKILL) {
        for pid in pids.withLock({ $0 }) { kill(pid, signal) }
    }

    /// Remembers the temporary directory to remove on an emergency stop.
    func setScratchDirectory(_ path: String?) { scratch.withLock { $0 = path } }

    /// The emergency stop of signals and the watchdog: SIGTERM to every child, SIGKILL half a second later, then the
    /// temporary directory goes.
    func emergencyStop() {
        killAll(SIGTERM)
        usleep(500_000)
        killAll(SIGKILL)
        if let path = scratch.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// Installs handlers so that SIGINT and SIGTERM stop the children before the benchmark exits.
enum SignalGuard {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Installs the handlers (once, at start).
    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("cairn-bench: signal \(sig), stopping child processes\n".utf8))
                Children.shared.emergencyStop()
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// A free TCP port on 127.0.0.1, found by binding port 0 and reading back the port the kernel chose.
func freeLoopbackPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw BenchError("socket() failed: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw BenchError("bind() failed: \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw BenchError("getsockname() failed: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Finds an executable on PATH, as a shell would.
func findOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Writes a line to standard output at once (unbuffered), so progress shows when the output goes to a file or pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A benchmark failure with a message for the user.
struct BenchError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String
    /// Creates the error.
    init(_ description: String) { self.description = description }
}

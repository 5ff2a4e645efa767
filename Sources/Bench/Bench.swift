import AWSCore
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// `cairn-bench`: load-tests a release build of `cairn serve` on loopback (CloudTrail and S3) and compares it with moto.
///
/// It builds nothing: it runs the binary given by `--cairn`. Every process it starts is stopped on every way out,
/// the run is bounded by a watchdog, and all traffic goes to 127.0.0.1.
@main
struct CairnBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-bench",
        abstract:
            "Benchmark cairn serve: audited DescribeTrails, LookupEvents over 1,000,000 events, moto for comparison, and S3 PutObject/GetObject throughput.",
        discussion: "Build first: swift build -c release && .build/release/cairn-bench"
    )

    @Option(help: "The cairn binary to benchmark.")
    var cairn = ".build/release/cairn"

    @Option(help: "Concurrent closed-loop clients for DescribeTrails (and for the loaded LookupEvents and S3 runs).")
    var clients = 8

    @Option(help: "Measured seconds per CloudTrail run.")
    var duration = 10.0

    @Option(help: "Warm-up seconds before each measured CloudTrail run.")
    var warmup = 2.0

    @Option(help: "Events seeded for the LookupEvents scenario.")
    var events = 1_000_000

    @Option(help: "Distinct event names the seeded events are spread over.")
    var eventNames = 500

    @Option(help: "Seeded events per append (one transaction each).")
    var seedBatch = 20_000

    @Option(
        help:
            "A directory to seed the LookupEvents data into once and keep: later runs given the same directory start from a copy of it instead of seeding."
    )
    var lookupData: String?

    @Option(help: "Events seeded as a backlog for the trail-delivery scenario.")
    var deliveryBacklog = 200_000

    @Option(help: "Scenarios to run, comma-separated: describe, moto, lookup, s3put, s3get (s3 = both), delivery.")
    var scenarios = "describe,moto,lookup,s3put,s3get,delivery,cfn"

    @Option(help: "S3 object sizes, comma-separated (bytes, or with K/KiB/M/MiB).")
    var s3Sizes = "4KiB,8MiB"

    @Option(help: "Measured seconds per S3 run (each size, operation and client count is one run).")
    var s3Duration = 4.0

    @Option(help: "Warm-up seconds before each measured S3 run.")
    var s3Warmup = 1.0

    /// The scenario names `--scenarios` accepts.
    static let knownScenarios: Set<String> = ["describe", "moto", "lookup", "s3put", "s3get", "s3", "delivery", "cfn"]

    /// The requested scenario names.
    var wantedScenarios: Set<String> {
        Set(scenarios.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// The parsed `--s3-sizes`, or nil when one does not parse.
    var objectSizes: [Int]? {
        let sizes = s3Sizes.split(separator: ",").map { ObjectSize.parse($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return sizes.compactMap { $0 }
    }

    @Option(help: "Stop everything and fail if the whole run takes longer than this many seconds.")
    var timeout = 1_800

    /// Rejects option values outside their ranges.
    mutating func validate() throws {
        guard clients >= 1, clients <= 256 else { throw ValidationError("--clients must be in 1...256") }
        guard duration > 0, duration <= 600, warmup >= 0, warmup <= 120 else {
            throw ValidationError("--duration must be in (0, 600] and --warmup in [0, 120]")
        }
        guard events >= 0, eventNames >= 1, seedBatch >= 1 else { throw ValidationError("--events, --event-names and --seed-batch must be positive") }
        guard timeout >= 10 else { throw ValidationError("--timeout must be at least 10 seconds") }
        let unknown = wantedScenarios.subtracting(Self.knownScenarios)
        guard unknown.isEmpty else {
            throw ValidationError(
                "unknown scenario(s) \(unknown.sorted().joined(separator: ", ")); known: describe, moto, lookup, s3put, s3get, s3, delivery, cfn")
        }
        guard let sizes = objectSizes, sizes.allSatisfy({ $0 <= 1 << 30 }) else {
            throw ValidationError("--s3-sizes must be sizes in 1 B...1 GiB, e.g. 4KiB,8MiB")
        }
        guard s3Duration > 0, s3Duration <= 600, s3Warmup >= 0, s3Warmup <= 120 else {
            throw ValidationError("--s3-duration must be in (0, 600] and --s3-warmup in [0, 120]")
        }
    }

    /// Runs the benchmark; every child process is stopped and the scratch directory removed on the way out.
    func run() async throws {
        SignalGuard.install()
        let limit = timeout
        Task.detached {
            try? await Task.sleep(for: .seconds(limit))
            FileHandle.standardError.write(Data("cairn-bench: the run exceeded --timeout \(limit) s; stopping\n".utf8))
            Children.shared.emergencyStop()
            Foundation.exit(3)
        }

        let wanted = wantedScenarios
        let binary = URL(fileURLWithPath: cairn).standardizedFileURL.path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("no cairn binary at \(binary); build it first: swift build -c release")
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-bench-\(IDs.uuid())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        Children.shared.setScratchDirectory(root)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients + 2
        configuration.timeout.connect = .seconds(5)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let bench = Runner(
            binary: binary, root: root, client: client, clients: clients, warmup: .seconds(warmup), duration: .seconds(duration))

        say("cairn-bench: \(binary)")
        say(
            "  clients \(clients), warm-up \(warmup) s, measured \(duration) s per CloudTrail run, \(ProcessInfo.processInfo.activeProcessorCount) cores, data in \(root)"
        )
        if !wanted.isDisjoint(with: ["s3", "s3put", "s3get"]) {
            say(
                "  S3: objects of \((objectSizes ?? []).map(ObjectSize.label).joined(separator: ", ")), 1 and \(clients) clients, "
                    + "warm-up \(s3Warmup) s, measured \(s3Duration) s per run")
        }
        var outcome: Result<Void, any Error> = .success(())
        do {
            try await bench.run(
                wanted: wanted, events: events, names: eventNames, seedBatch: seedBatch, lookupData: lookupData,
                deliveryBacklog: deliveryBacklog,
                s3Sizes: objectSizes ?? [],
                s3Warmup: .seconds(s3Warmup), s3Duration: .seconds(s3Duration))
        } catch {
            outcome = .failure(error)
        }
        await bench.stopAll()
        try? await client.shutdown()
        try? FileManager.default.removeItem(atPath: root)
        if case .failure(let error) = outcome {
            FileHandle.standardError.write(Data("cairn-bench: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The scenarios, sharing one HTTP client and one temporary directory.
final class Runner: @unchecked Sendable {
    let binary: String
    let root: String
    let client: HTTPClient
    let clients: Int
    let warmup: Duration
    let duration: Duration
    private var running: [ChildProcess] = []

    static let describeTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails"
    static let lookupTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"

    /// Creates the runner.
    init(binary: String, root: String, client: HTTPClient, clients: Int, warmup: Duration, duration: Duration) {
        self.binary = binary
        self.root = root
        self.client = client
        self.clients = clients
        self.warmup = warmup
        self.duration = duration
    }

    /// Runs the wanted scenarios in order and prints the report.
    func run(
        wanted: Set<String>, events: Int, names: Int, seedBatch: Int, lookupData: String?, deliveryBacklog: Int, s3Sizes: [Int],
        s3Warmup: Duration,
        s3Duration: Duration
    ) async throws {
        var describe: LoadResult?
        var moto: LoadResult?
        var lookups: [(clients: Int, result: LoadResult)] = []
        var s3: [S3Run] = []

        if wanted.contains("describe") {
            say("\n[1] DescribeTrails against cairn (audited: every call is a durable CloudTrail event)")
            let (server, endpoint) = try await startCairn(dataDir: root + "/describe")
            let request = signed(endpoint: endpoint, target: Self.describeTarget, body: "{}")
            try await expectOK(request, what: "DescribeTrails")
            let result = await runLoad(port: request.port, clients: clients, warmup: warmup, duration: duration, request: request.bytes)
            say("    \(result.summary)")
            report(errorsOf: result, server: server)
            describe = result
            await stop(server)
        }

        if wanted.contains("moto") {
            if let motoServer = findOnPath("moto_server") {
                say("\n[1b] DescribeTrails against moto_server (\(motoServer))")
                let port = try freeLoopbackPort()
                let process = try start(
                    ChildProcess(
                        name: "moto_server", executable: motoServer, arguments: ["-H", "127.0.0.1", "-p", String(port)],
                        logPath: root + "/moto.log"))
                try await waitUntilAnswering(
                    client, url: "http://127.0.0.1:\(port)/moto-api/", process: process, anyStatus: true, timeout: .seconds(60))
                let request = signed(endpoint: "http://127.0.0.1:\(port)", target: Self.describeTarget, body: "{}")
                try await expectOK(request, what: "moto DescribeTrails")
                let result = await runLoad(port: request.port, clients: clients, warmup: warmup, duration: duration, request: request.bytes)
                say("    \(result.summary)")
                report(errorsOf: result, server: process)
                moto = result
                await stop(process)
            } else {
                say("\n[1b] moto_server is not on PATH: no comparison")
            }
        }

        if wanted.contains("lookup") {
            let dataDir = root + "/lookup"
            say("\n[2] LookupEvents by EventName over \(events) stored events (\(names) names, last 80 days)")
            try await Seeder.prepare(directory: dataDir, kept: lookupData, count: events, names: names, batch: seedBatch)
            let (server, endpoint) = try await startCairn(dataDir: dataDir)
            let name = Seeder.eventName(names / 2)
            let body = #"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"\#(name)"}],"MaxResults":50}"#
            let request = signed(endpoint: endpoint, target: Self.lookupTarget, body: body)
            let page = try await expectOK(request, what: "LookupEvents")
            let returned = (try? JSONSerialization.jsonObject(with: Data(page)) as? [String: Any])?["Events"] as? [Any]
            let expected = min(50, events / names)
            guard returned?.count == expected else {
                throw BenchError("LookupEvents for \(name) returned \(returned?.count ?? -1) events, expected \(expected)")
            }
            say("    EventName \(name): \(events / names) matching events, \(expected) per page, \(page.count) bytes per response")
            for n in Array(Set([1, clients])).sorted() {
                let result = await runLoad(port: request.port, clients: n, warmup: warmup, duration: duration, request: request.bytes)
                say("    \(n) client\(n == 1 ? " " : "s"): \(result.summary)")
                report(errorsOf: result, server: server)
                lookups.append((n, result))
            }
            await stop(server)
        }

        let s3Put = wanted.contains("s3put") || wanted.contains("s3")
        let s3Get = wanted.contains("s3get") || wanted.contains("s3")
        if s3Put || s3Get {
            s3 = try await runS3(put: s3Put, get: s3Get, sizes: s3Sizes, warmup: s3Warmup, duration: s3Duration)
        }

        var delivery: DeliveryRun?
        if wanted.contains("delivery") {
            delivery = try await runDelivery(backlog: deliveryBacklog, seedBatch: seedBatch)
        }

        var stacks: (cairn: (create: Double, delete: Double), moto: (create: Double, delete: Double)?)?
        if wanted.contains("cfn") {
            stacks = try await runStackScenario()
        }

        if describe != nil || !lookups.isEmpty || delivery != nil || stacks != nil { say("\nTargets") }
        if let stacks {
            let motoText = stacks.moto.map { String(format: ", moto %.2f s", $0.create) } ?? ", moto not measured"
            let faster = stacks.moto.map { stacks.cairn.create < $0.create } ?? true
            say(
                "  \(verdict(stacks.cairn.create <= 1 && faster)) 100-resource stack CREATE_COMPLETE within 1 s and faster than moto: "
                    + String(format: "cairn %.2f s", stacks.cairn.create) + motoText
                    + String(format: " (deletion: cairn %.2f s", stacks.cairn.delete)
                    + (stacks.moto.map { String(format: ", moto %.2f s)", $0.delete) } ?? ")"))
        }
        if let describe {
            if let moto {
                let ratio = describe.throughput / moto.throughput
                say(
                    "  \(verdict(ratio >= 20 && describe.errors == 0)) DescribeTrails at \(clients) clients >= 20x moto: "
                        + String(format: "cairn %.0f req/s, moto %.0f req/s, ratio %.1fx", describe.throughput, moto.throughput, ratio))
            } else {
                say(
                    "  n/a  DescribeTrails at \(clients) clients >= 20x moto: "
                        + String(format: "cairn %.0f req/s, moto not measured", describe.throughput))
            }
        }
        for (n, result) in lookups {
            say(
                "  \(verdict(result.percentile(0.99) <= 10 && result.errors == 0)) LookupEvents by EventName p99 <= 10 ms "
                    + "(\(n) client\(n == 1 ? "" : "s")): " + String(format: "p99 %.2f ms", result.percentile(0.99)))
        }
        if let delivery {
            say(
                "  \(verdict(delivery.eventsPerSecond >= 20_000)) trail delivery >= 20,000 stored events/s into delivered files: "
                    + String(format: "%.0f events/s (%d events in %.2f s)", delivery.eventsPerSecond, delivery.backlog, delivery.flushSeconds))
            let worst = delivery.delays.last ?? .infinity
            let median = delivery.delays.isEmpty ? 0 : delivery.delays[delivery.delays.count / 2]
            say(
                "  \(verdict(worst <= Double(delivery.interval + 1) * 1000 && delivery.load.errors == 0)) call-to-delivered-file delay "
                    + "<= interval + 1 s under \(clients)-client load: "
                    + String(
                        format: "%d probes, median %.0f ms, max %.0f ms (%.0f req/s recorded meanwhile)", delivery.delays.count, median, worst,
                        delivery.load.throughput))
        }
        summarize(s3)
    }

    /// The `cfn` scenario against Cairn, then against moto_server when it is on PATH (median of 5 runs each).
    private func runStackScenario() async throws -> (cairn: (create: Double, delete: Double), moto: (create: Double, delete: Double)?) {
        say("\n[6] CloudFormation: a 100-resource stack (40 buckets, 40 bucket policies, 20 topics), median of 5 runs")
        let (server, endpoint) = try await startCairn(dataDir: root + "/cfn")
        let cairn = try await runStacks(endpoint: endpoint, runs: 5)
        say(String(format: "    cairn: CreateStack to CREATE_COMPLETE %.3f s, DeleteStack to DELETE_COMPLETE %.3f s", cairn.create, cairn.delete))
        await stop(server)
        guard let motoServer = findOnPath("moto_server") else {
            say("    moto_server is not on PATH: no comparison")
            return (cairn, nil)
        }
        let port = try freeLoopbackPort()
        let process = try start(
            ChildProcess(
                name: "moto_server", executable: motoServer, arguments: ["-H", "127.0.0.1", "-p", String(port)],
                logPath: root + "/moto-cfn.log"))
        try await waitUntilAnswering(client, url: "http://127.0.0.1:\(port)/moto-api/", process: process, anyStatus: true, timeout: .seconds(60))
        let moto = try await runStacks(endpoint: "http://127.0.0.1:\(port)", runs: 5)
        say(String(format: "    moto:  CreateStack to CREATE_COMPLETE %.3f s, DeleteStack to DELETE_COMPLETE %.3f s", moto.create, moto.delete))
        await stop(process)
        return (cairn, moto)
    }

    /// Prints the S3 runs as one table (no targets: numbers only).
    private func summarize(_ runs: [S3Run]) {
        guard !runs.isEmpty else { return }
        say("\nS3 throughput (no target; every response verified: status, ETag = MD5, length)")
        for run in runs {
            let r = run.result
            say(
                "  " + run.operation.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + ObjectSize.label(run.size).leftPadded(7) + "  " + "\(run.clients) client\(run.clients == 1 ? " " : "s")".leftPadded(10)
                    + String(
                        format: "  %7.0f req/s  %7.1f MiB/s  p50 %7.2f ms  p99 %7.2f ms  errors %d", r.throughput, r.mebibytesPerSecond,
                        r.percentile(0.5), r.percentile(0.99), r.errors))
        }
    }

    /// PASS or FAIL.
    private func verdict(_ pass: Bool) -> String { pass ? "PASS" : "FAIL" }

    /// Prints the first error of a run, if any, and then the last lines of the server's output (where Cairn logs the
    /// cause of an internal error).
    func report(errorsOf result: LoadResult, server: ChildProcess) {
        guard let first = result.firstError else { return }
        say("    first error: \(first)")
        let tail = server.logTail(12).trimmingCharacters(in: .whitespacesAndNewlines)
        if !tail.isEmpty {
            say("    last lines of \(server.name)'s output:\n" + tail.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
        }
    }

    /// A request factory for a CloudTrail JSON 1.1 operation, signed as test/test in us-east-1.
    func signed(endpoint: String, target: String, body: String) -> SignedJSONRequest {
        SignedJSONRequest(
            endpoint: endpoint, host: String(endpoint.dropFirst("http://".count)), target: target, body: Array(body.utf8),
            signer: SigV4Signer(accessKeyId: "test", secretAccessKey: "test", region: "us-east-1", service: "cloudtrail"))
    }

    /// Sends one request and requires a 200; returns the body.
    @discardableResult
    func expectOK(_ request: SignedJSONRequest, what: String) async throws -> [UInt8] {
        let (status, body) = try await send(client, request.make())
        guard status == 200 else {
            throw BenchError("\(what) answered HTTP \(status): \(String(buffer: body).prefix(500))")
        }
        return Array(buffer: body)
    }

    /// Remembers a started child so that it is stopped on every way out.
    private func start(_ process: ChildProcess) -> ChildProcess {
        running.append(process)
        return process
    }

    /// Starts `cairn serve` on a free loopback port over `dataDir` and waits for `/_cairn/health`.
    func startCairn(dataDir: String, extra: [String] = []) async throws -> (ChildProcess, String) {
        let port = try freeLoopbackPort()
        let process = start(
            try ChildProcess(
                name: "cairn serve", executable: binary,
                arguments: ["serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir] + extra,
                environment: ["CAIRN_LOG_LEVEL": "warning"], logPath: dataDir + ".log"))
        let endpoint = "http://127.0.0.1:\(port)"
        try await waitUntilAnswering(client, url: endpoint + "/_cairn/health", process: process, anyStatus: false, timeout: .seconds(120))
        return (process, endpoint)
    }

    /// Stops a child and forgets it.
    func stop(_ process: ChildProcess) async {
        await process.stop()
        running.removeAll { $0 === process }
    }

    /// Stops every child still running (after an error).
    func stopAll() async {
        for process in running { await process.stop() }
        running.removeAll()
    }
}

extension String {
    /// The string right-aligned in `width` columns (unchanged when longer).
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

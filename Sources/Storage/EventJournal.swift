import AWSCore
import Audit
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The write-ahead journal of events: where an acknowledged event is durable until the database's event tables hold
/// it.
///
/// An SQLite commit of one event touches about a dozen pages (the event table, its six indexes, the resource rows)
/// and writes each of them to the WAL before its `fdatasync`. The journal instead writes each batch of events as one
/// run of compact records with a single `pwrite` and a single `fdatasync`, into a file that is preallocated and
/// rewritten from its start once its events are indexed, so that a sync writes data blocks only. The event tables
/// are filled later, many events per transaction (``SQLiteStorage/settle()``).
///
/// The journal is two segment files, `events.journal` and `events.journal.1`, written one at a time from their start.
/// Once the segment being written holds ``switchBytes`` and every event of the other one is indexed, writing moves to
/// the other segment, from its start; when every journaled event is indexed, the current segment is rewritten from
/// its start. (With one file, a rewind would need the indexer to catch up with every event journaled, which a
/// steady load never lets it do, and the file would grow without end.)
///
/// Appends are group-committed by one writer thread of the journal's own: callers queue their events and wait; the
/// writer takes everything queued, numbers the events (the store's `seq`, in journal order), writes and syncs them,
/// then adds them to the list of unindexed events and resumes the callers. Whatever arrives while a batch syncs forms
/// the next batch. An event stays on the unindexed list, where Event history reads it (``unindexedBatches()``), until
/// the indexer reports it committed to the database (``indexed(through:)``), so every acknowledged event is always
/// in the list or in the tables. (A thread, not a task: `pwrite` and `fdatasync` block, and must not hold up an event loop or
/// Swift's cooperative pool.)
///
/// A record is `length u32 | crc32c u32 | payload`, little-endian; the payload is the event's `seq` and its columns
/// (see ``encode(_:into:)``). Reading a segment back (``recover()``) accepts records from its start while their checksums
/// match and their numbers follow each other, so a torn last batch and records left from before a rewind are both
/// ignored.
package final class EventJournal: Sendable {
    /// Bytes each segment file is extended to when opened: enough for the events of a few indexing passes at full load.
    static let preallocatedBytes = 8 << 20
    /// The size of the segment being written past which writing moves to the other segment, once that one is indexed.
    static let switchBytes = 1 << 20
    /// The unit of every write: batches are written as whole blocks at block offsets (see ``BlockWriter``).
    static let blockSize = 4096
    /// The largest record ``recover()`` accepts (a bound for reading a damaged file; events are far smaller).
    static let maxRecordBytes = 64 << 20
    /// The most events one batch writes.
    static let maxBatch = 4096

    private struct Waiter {
        var events: [StoredEvent]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// Appends waiting for the writer.
        var queue: [Waiter] = []
        /// The writer waits on the semaphore.
        var sleeping = false
        var stopping = false
        /// The `seq` the next journaled event gets.
        var nextSeq: Int64 = 1
        /// The segment being written (0 or 1).
        var segment = 0
        /// Where the next batch is written in that segment.
        var offset = 0
        /// The newest event written to each segment since it was last written from its start.
        var segmentNewest: [Int64] = [0, 0]
        /// The newest event written to the journal.
        var journaledThrough: Int64 = 0
        /// The newest event the indexer has committed to the database.
        var indexedThrough: Int64 = 0
        /// The newest event handed to the indexer by ``rowsToIndex(after:)``.
        var handedThrough: Int64 = 0
        /// Journaled events not yet committed to the database, oldest first, as the writer's batches: a reader's
        /// snapshot of the list (``unindexedBatches()``) then costs the next batch a copy of one reference per batch,
        /// not one per event.
        var unindexed: [[EventRow]] = []
        /// The writer thread has ended.
        var finished = false
        /// Callers of ``shutdown()`` waiting for the writer to end.
        var closing: [CheckedContinuation<Void, Never>] = []
    }

    /// The two segment files, `path` and `path.1`.
    private let descriptors: [Int32]
    private let paths: [String]
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)

    /// Opens (creating and preallocating if needed) the journal's segment files, `path` and `path.1`, and locks the
    /// first against other processes.
    ///
    /// - Throws: when a file cannot be opened or extended, or another process holds the journal.
    package init(path: String) throws {
        let paths = [path, path + ".1"]
        var descriptors: [Int32] = []
        do {
            for segment in paths {
                let fd = open(segment, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw JournalError("cannot open \(segment): \(String(cString: strerror(errno)))") }
                descriptors.append(fd)
                if descriptors.count == 1, flock(fd, LOCK_EX | LOCK_NB) != 0 {
                    throw JournalError("\(path) is in use by another Cairn process")
                }
                try Self.preallocate(fd, path: segment)
            }
        } catch {
            for fd in descriptors { close(fd) }
            throw error
        }
        self.descriptors = descriptors
        self.paths = paths
    }

    deinit {
        for fd in descriptors { close(fd) }
    }

    /// Extends a new or short file with zeros to ``preallocatedBytes`` and makes that durable (the directory entry
    /// too), so that later syncs of overwritten blocks need not write the file's size or block map.
    private static func preallocate(_ descriptor: Int32, path: String) throws {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw JournalError("cannot stat \(path)") }
        let size = Int(info.st_size)
        guard size < Self.preallocatedBytes else { return }
        let zeros = [UInt8](repeating: 0, count: Self.preallocatedBytes - size)
        try zeros.withUnsafeBytes { try write($0, at: size, to: descriptor, path: path) }
        guard fsync(descriptor) == 0 else { throw JournalError("cannot sync \(path): \(String(cString: strerror(errno)))") }
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// Reads the journal's valid records: those each segment holds from its start (the events written to it since it
    /// was last written from its start), both segments' together, oldest first. Some may already be indexed.
    ///
    /// Call before ``start(after:indexedThrough:)``.
    ///
    /// - Throws: when a file cannot be read.
    package func recover() throws -> [EventRow] {
        var rows: [EventRow] = []
        for (fd, path) in zip(descriptors, paths) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw JournalError("cannot stat \(path)") }
            var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
            var read = 0
            while read < bytes.count {
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + read, $0.count - read, off_t(read)) }
                guard n > 0 else {
                    if n < 0, errno == EINTR { continue }
                    break
                }
                read += n
            }
            rows += bytes.withUnsafeBytes { raw in Self.decodeRecords(UnsafeRawBufferPointer(rebasing: raw[0..<read])) }
        }
        rows.sort { $0.seq < $1.seq }
        return rows
    }

    /// Starts the writer thread. Events get numbers after `seq`; the journal is rewound before its first batch when
    /// `indexedThrough` covers every event ``recover()`` returned.
    package func start(after seq: Int64, indexedThrough: Int64) {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        state.withLock { s in
            s.nextSeq = seq + 1
            s.journaledThrough = indexedThrough
            s.indexedThrough = indexedThrough
            s.handedThrough = indexedThrough
        }
        for fd in descriptors { Self.bypassPageCache(fd) }
        let thread = Thread { [self] in runWriter() }
        thread.name = "cairn-journal"
        thread.start()
    }

    /// Stops the writer thread after the batches already queued and releases the files' lock; later appends fail.
    /// Blocks the calling thread until the writer ends (for `deinit`; tasks call ``shutdown()``).
    package func stop() {
        guard started.load(ordering: .relaxed) else { return }
        if requestStop() { wake.signal() }
        stopped.wait()
        stopped.signal()  // a second stop() returns too
        // Nothing is written any more: another journal may open the files now, even before this one is freed.
        _ = flock(descriptors[0], LOCK_UN)
    }

    /// Stops the writer thread after the batches already queued and releases the files' lock, suspending (not
    /// blocking) until the writer ends; later appends fail. The application calls it at a graceful shutdown, once
    /// nothing appends any more.
    package func shutdown() async {
        guard started.load(ordering: .relaxed) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { s in
                if !s.finished { s.closing.append(continuation) }
                return s.finished
            }
            if finished {
                continuation.resume()
            } else if requestStop() {
                wake.signal()
            }
        }
        _ = flock(descriptors[0], LOCK_UN)
    }

    /// Marks the journal as stopping; returns whether the writer sleeps and must be woken to see it.
    private func requestStop() -> Bool {
        state.withLock { s -> Bool in
            let sleeping = s.sleeping
            s.stopping = true
            s.sleeping = false
            return sleeping
        }
    }

    /// Appends events durably: returns once they are on disk, in the journal, and on the list of unindexed events.
    ///
    /// - Throws: when the write or sync fails, or the journal is stopped.
    package func append(_ events: [StoredEvent]) async throws {
        guard !events.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let action = state.withLock { s -> (signal: Bool, rejected: Bool) in
                if s.stopping { return (false, true) }
                s.queue.append(Waiter(events: events, continuation: continuation))
                guard s.sleeping else { return (false, false) }
                s.sleeping = false
                return (true, false)
            }
            if action.rejected {
                continuation.resume(throwing: JournalError("the event journal is closed"))
            } else if action.signal {
                wake.signal()
            }
        }
    }

    /// The journaled events numbered after `seq` that the database does not hold yet, oldest first, for the indexer
    /// to commit: `seq` is the newest event the database holds. They stay on the unindexed list (and visible to
    /// ``unindexedBatches()``) until ``indexed(through:)``. Handed out as slices of the writer's batches, not copied.
    package func rowsToIndex(after seq: Int64) -> [ArraySlice<EventRow>] {
        state.withLock { s in
            var slices: [ArraySlice<EventRow>] = []
            for batch in s.unindexed where batch[batch.count - 1].seq > seq {
                slices.append(batch[0].seq > seq ? batch[...] : batch.drop { $0.seq <= seq })
            }
            if let last = slices.last?.last { s.handedThrough = max(s.handedThrough, last.seq) }
            return slices
        }
    }

    /// Notes that indexing the events handed out by ``rowsToIndex(after:)`` failed, so that ``pendingCount`` counts
    /// them again.
    package func indexingFailed() {
        state.withLock { s in s.handedThrough = s.indexedThrough }
    }

    /// Notes that the database durably holds every event up to `seq`, and drops those events from the unindexed list;
    /// once the database holds all the journal holds, the next batch is written at the start of the file again.
    package func indexed(through seq: Int64) {
        state.withLock { s in
            s.indexedThrough = max(s.indexedThrough, seq)
            let covered = s.unindexed.prefix { $0.last!.seq <= seq }.count
            s.unindexed.removeFirst(covered)
            if let first = s.unindexed.first, first.first!.seq <= seq {
                s.unindexed[0] = Array(first.drop { $0.seq <= seq })
            }
        }
    }

    /// The journaled events the database does not hold yet, oldest first, in the writer's batches (each non-empty).
    ///
    /// An event leaves this list only after the transaction that indexed it committed, so a snapshot of the event
    /// tables taken after this call holds every acknowledged event the returned list lacks. The list may also hold
    /// events that such a snapshot already holds (committed, but not yet dropped from the list): tell them apart by
    /// the database's newest `seq`.
    package func unindexedBatches() -> [[EventRow]] {
        state.withLock { $0.unindexed }
    }

    /// The number of journaled events not yet handed to the indexer.
    package var pendingCount: Int {
        state.withLock { s in Int(max(0, s.journaledThrough - max(s.handedThrough, s.indexedThrough))) }
    }

    /// The newest event acknowledged to a caller (on the unindexed list or indexed), and the newest the database holds.
    package var progress: (acknowledged: Int64, indexed: Int64) {
        state.withLock { s in (max(s.journaledThrough, s.indexedThrough), s.indexedThrough) }
    }

    // MARK: Writer

    /// The writer thread: takes the queued appends, writes and syncs them as one batch, resumes their callers.
    private func runWriter() {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256 << 10)
        var blocks = BlockWriter()
        while true {
            let taken = state.withLock { s -> (waiters: [Waiter], firstSeq: Int64, segment: Int, offset: Int)? in
                guard !s.queue.isEmpty else {
                    if !s.stopping { s.sleeping = true }
                    return nil
                }
                var count = 0
                var end = 0
                while end < s.queue.count, end == 0 || count + s.queue[end].events.count <= Self.maxBatch {
                    count += s.queue[end].events.count
                    end += 1
                }
                let waiters = Array(s.queue[0..<end])
                s.queue.removeFirst(end)
                if s.journaledThrough <= s.indexedThrough {
                    // Everything journaled is in the database: this batch can overwrite the segment from its start.
                    s.offset = 0
                } else if s.offset >= Self.switchBytes, s.segmentNewest[1 - s.segment] <= s.indexedThrough {
                    // Everything in the other segment is in the database: continue there, from its start.
                    s.segment = 1 - s.segment
                    s.offset = 0
                }
                return (waiters, s.nextSeq, s.segment, s.offset)
            }
            guard let taken else {
                let stop = state.withLock { s in s.stopping && s.queue.isEmpty }
                if stop { break }
                wake.wait()
                continue
            }
            buffer.removeAll(keepingCapacity: true)
            var rows: [EventRow] = []
            rows.reserveCapacity(taken.waiters.count)
            var seq = taken.firstSeq
            for waiter in taken.waiters {
                for event in waiter.events {
                    let row = EventRow(seq: seq, event: event)
                    Self.encode(row, into: &buffer)
                    rows.append(row)
                    seq += 1
                }
            }
            let result: Result<Void, any Error>
            do {
                let fd = descriptors[taken.segment]
                try blocks.write(buffer, at: taken.offset, to: fd, path: paths[taken.segment])
                guard fdatasync(fd) == 0 else {
                    throw JournalError("cannot sync \(paths[taken.segment]): \(String(cString: strerror(errno)))")
                }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            state.withLock { s in
                if case .success = result {
                    s.nextSeq = seq
                    s.offset = taken.offset + buffer.count
                    s.journaledThrough = seq - 1
                    s.segmentNewest[taken.segment] = seq - 1
                    s.unindexed.append(rows)
                }
                // A failed batch's numbers are given again: its records may be on disk in part, and the next batch
                // overwrites them, so the numbers on disk keep following each other.
            }
            for waiter in taken.waiters {
                switch result {
                case .success: waiter.continuation.resume()
                case .failure(let error): waiter.continuation.resume(throwing: error)
                }
            }
        }
        let closing = state.withLock { s in
            s.finished = true
            defer { s.closing = [] }
            return s.closing
        }
        for continuation in closing { continuation.resume() }
        stopped.signal()
    }

    /// Turns on direct I/O (`O_DIRECT`) for a segment file where the system has it: each batch then goes from the
    /// writer's buffer to the disk in its `pwrite`, and its `fdatasync` only has to flush the disk's cache. That
    /// costs about a third less CPU per batch than writing through the page cache and writing it back in the sync
    /// (measured on ext4). Where direct I/O is refused (tmpfs, other systems), writes stay buffered.
    private static func bypassPageCache(_ descriptor: Int32) {
        #if os(Linux) && arch(x86_64)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | 0o40000)
        #elseif os(Linux) && arch(arm64)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | 0o200000)
        #endif
    }

    /// Writes all of `bytes` at `offset`.
    fileprivate static func write(_ bytes: UnsafeRawBufferPointer, at offset: Int, to descriptor: Int32, path: String) throws {
        var written = 0
        while written < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(offset + written))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw JournalError("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += n
        }
    }

    // MARK: Records

    /// Appends one record to `buffer`: `length | crc32c(payload) | payload`, where the payload is `seq`, `eventTime`
    /// (i64), category and readOnly (u8 each), then account, region, eventID, eventName, eventSource, username,
    /// accessKeyId, the lookup resources (as ``SQLiteStorage/encodeResources(_:)`` writes them) and the record, each
    /// as `length u32 | bytes`.
    static func encode(_ row: EventRow, into buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 8))
        let e = row.event
        append(UInt64(bitPattern: row.seq), to: &buffer)
        append(UInt64(bitPattern: e.eventTime), to: &buffer)
        buffer.append(e.category == .management ? 0 : 1)
        buffer.append(e.readOnly ? 1 : 0)
        for text in [e.accountId, e.region, e.eventID, e.eventName, e.eventSource, e.username, e.accessKeyId] {
            appendField(text, to: &buffer)
        }
        appendField(SQLiteStorage.encodeResources(e.lookupResources), to: &buffer)
        append(UInt32(e.record.count), to: &buffer)
        buffer.append(contentsOf: e.record)
        let length = UInt32(buffer.count - start - 8)
        let crc = buffer.withUnsafeBytes { CRC.crc32c(0, UnsafeRawBufferPointer(rebasing: $0[(start + 8)...])) }
        buffer.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: length.littleEndian, toByteOffset: start, as: UInt32.self)
            raw.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }

    /// The valid records at the start of `bytes` (see ``recover()``).
    static func decodeRecords(_ bytes: UnsafeRawBufferPointer) -> [EventRow] {
        var rows: [EventRow] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            guard length > 0, length <= maxRecordBytes, offset + 8 + length <= bytes.count else { break }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + 8 + length)])
            guard CRC.crc32c(0, payload) == crc, let row = decode(payload) else { break }
            if let last = rows.last, row.seq != last.seq + 1 { break }
            rows.append(row)
            offset += 8 + length
        }
        return rows
    }

    /// Reads one record's payload, or nil when it is malformed.
    private static func decode(_ payload: UnsafeRawBufferPointer) -> EventRow? {
        var reader = Reader(bytes: payload)
        guard let seq = reader.u64(), let time = reader.u64(), let category = reader.u8(), let readOnly = reader.u8() else {
            return nil
        }
        var texts: [String] = []
        for _ in 0..<8 {
            guard let field = reader.field() else { return nil }
            texts.append(String(decoding: field, as: UTF8.self))
        }
        guard let record = reader.field(), reader.atEnd else { return nil }
        return EventRow(
            seq: Int64(bitPattern: seq),
            event: StoredEvent(
                accountId: texts[0], region: texts[1], category: category == 0 ? .management : .data,
                eventTime: Int64(bitPattern: time), eventID: texts[2], eventName: texts[3], eventSource: texts[4],
                readOnly: readOnly == 1, username: texts[5], accessKeyId: texts[6],
                lookupResources: SQLiteStorage.decodeResources(texts[7]), record: Array(record)))
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    private static func appendField(_ text: String, to buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            append(UInt32(utf8.count), to: &buffer)
            buffer.append(contentsOf: utf8)
        }
    }

    /// Reads little-endian fields off a payload.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func u8() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u64() -> UInt64? {
            guard offset + 8 <= bytes.count else { return nil }
            defer { offset += 8 }
            return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }

        mutating func field() -> UnsafeRawBufferPointer? {
            guard offset + 4 <= bytes.count else { return nil }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            guard offset + 4 + length <= bytes.count else { return nil }
            defer { offset += 4 + length }
            return UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 4 + length)])
        }
    }
}

/// Writes batches as whole, aligned blocks, as direct I/O requires: a batch that starts inside a block is written
/// from that block's start, with the block's earlier bytes (the end of the previous batch, kept from its write) in
/// front, and is padded with zeros to the end of its last block.
///
/// Rewriting the start of a block rewrites bytes already acknowledged, but with the same values, so a write torn by a
/// crash leaves them intact whichever of its sectors reached the disk.
private struct BlockWriter: ~Copyable {
    /// The block-aligned memory the writes go out from.
    private var memory: UnsafeMutableRawBufferPointer
    /// The bytes of the block that holds the end of the last successful write, from that block's start.
    private var tail: [UInt8] = []
    /// Where the last successful write ended (in its segment).
    private var tailEnd = -1

    init() {
        memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: EventJournal.blockSize)
    }

    deinit { memory.deallocate() }

    /// Writes `bytes` at `offset`, which is where the previous write to `descriptor` ended or a block boundary.
    mutating func write(_ bytes: [UInt8], at offset: Int, to descriptor: Int32, path: String) throws {
        let block = EventJournal.blockSize
        let start = offset - offset % block
        let lead = offset - start
        if lead > 0, tailEnd != offset {
            throw JournalError("cannot write \(path) at \(offset): the block's earlier bytes are not known")
        }
        let end = lead + bytes.count
        let padded = (end + block - 1) / block * block
        if memory.count < padded {
            memory.deallocate()
            memory = UnsafeMutableRawBufferPointer.allocate(byteCount: padded, alignment: block)
        }
        if lead > 0 { tail.withUnsafeBytes { memory.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: lead) } }
        bytes.withUnsafeBytes { memory.baseAddress!.advanced(by: lead).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        memory.baseAddress!.advanced(by: end).initializeMemory(as: UInt8.self, repeating: 0, count: padded - end)
        try EventJournal.write(UnsafeRawBufferPointer(rebasing: memory[0..<padded]), at: start, to: descriptor, path: path)
        let lastBlock = (end / block) * block
        tail = Array(memory[lastBlock..<end])
        tailEnd = start + end
    }
}

/// A failure of the event journal's file.
package struct JournalError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}

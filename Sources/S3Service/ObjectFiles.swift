import AWSCore
import Foundation
import Hummingbird
import NIOCore
import _NIOFileSystem

/// Where object bytes live: one immutable file per stored object under `<data-dir>/s3/objects`.
///
/// A new object is written to `s3/tmp`, synced to disk, then renamed into place and the directory synced, all
/// before its metadata record is committed; so a crash never leaves a record pointing at missing or partial bytes.
/// A file is never rewritten: replacing an object writes a new file and removes the old one after the new record is
/// committed, so readers streaming the old bytes are not disturbed.
final class ObjectFiles: Sendable {
    /// The sink an upload writes its decoded bytes into.
    typealias Sink = BufferedWriter<WriteFileHandle>

    private let objects: String
    private let staging: String
    private let fileSystem = FileSystem.shared
    private let newID: @Sendable () -> String

    /// Prepares the directories below `dataDirectory` and clears uploads left half-written by a crash.
    init(dataDirectory: String, newID: @escaping @Sendable () -> String) throws {
        objects = dataDirectory + "/s3/objects"
        staging = dataDirectory + "/s3/tmp"
        self.newID = newID
        let fm = FileManager.default
        try? fm.removeItem(atPath: staging)
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: objects, withIntermediateDirectories: true)
    }

    /// Writes a new file with what `produce` writes into the sink, makes it durable and returns its name.
    ///
    /// When `produce` throws, nothing is left behind.
    func write<T>(_ produce: (inout Sink) async throws -> T) async throws -> (file: String, result: T) {
        let id = newID().lowercased()
        let shard = String(id.prefix(2))
        let temp = staging + "/" + id
        let result: T
        do {
            result = try await fileSystem.withFileHandle(forWritingAt: FilePath(temp), options: .newFile(replaceExisting: true)) {
                handle in
                let result = try await handle.withBufferedWriter(capacity: .kibibytes(256)) { writer in
                    try await produce(&writer)
                }
                try await handle.synchronize()
                return result
            }
            let directory = objects + "/" + shard
            if (try? await fileSystem.info(forFileAt: FilePath(directory))) == nil {
                _ = try? await fileSystem.createDirectory(at: FilePath(directory), withIntermediateDirectories: true)
                try await syncDirectory(objects)
            }
            try await fileSystem.moveItem(at: FilePath(temp), to: FilePath(directory + "/" + id))
            try await syncDirectory(directory)
        } catch {
            _ = try? await fileSystem.removeItem(at: FilePath(temp))
            throw error
        }
        return (shard + "/" + id, result)
    }

    /// Writes bytes already in memory as a new file.
    func write(_ bytes: ByteBuffer) async throws -> String {
        try await write { sink in _ = try await sink.write(contentsOf: bytes) }.file
    }

    /// Removes an object's file (a missing file is not an error).
    func remove(_ file: String) async {
        _ = try? await fileSystem.removeItem(at: FilePath(objects + "/" + file))
    }

    /// A response body streaming `range` of an object's file.
    func body(_ file: String, range: Range<Int64>) -> ResponseBody {
        let path = FilePath(objects + "/" + file)
        let fileSystem = self.fileSystem
        return ResponseBody(contentLength: Int(range.count)) { writer in
            if !range.isEmpty {
                try await fileSystem.withFileHandle(forReadingAt: path) { handle in
                    for try await chunk in handle.readChunks(in: range, chunkLength: .kibibytes(256)) {
                        try await writer.write(chunk)
                    }
                }
            }
            try await writer.finish(nil)
        }
    }

    /// Calls `each` with the chunks of `range` of an object's file (for copies and multipart completion).
    func read(_ file: String, range: Range<Int64>, _ each: (ByteBuffer) async throws -> Void) async throws {
        guard !range.isEmpty else { return }
        try await fileSystem.withFileHandle(forReadingAt: FilePath(objects + "/" + file)) { handle in
            for try await chunk in handle.readChunks(in: range, chunkLength: .kibibytes(256)) {
                try await each(chunk)
            }
        }
    }

    /// Reads a whole (small) object file into memory.
    func contents(_ file: String) async throws -> ByteBuffer {
        var all = ByteBuffer()
        try await fileSystem.withFileHandle(forReadingAt: FilePath(objects + "/" + file)) { handle in
            for try await chunk in handle.readChunks(in: 0..<Int64.max, chunkLength: .kibibytes(256)) {
                var chunk = chunk
                all.writeBuffer(&chunk)
            }
        }
        return all
    }

    /// Makes a directory's entries (a rename into it) durable.
    private func syncDirectory(_ path: String) async throws {
        try await fileSystem.withDirectoryHandle(atPath: FilePath(path)) { handle in
            try await handle.synchronize()
        }
    }
}

import Foundation
import OTLPMmapGenerator
import OTLPMmapSpec
import Testing
import TestSupport

/// A rehearsal of the next format version: a v2 spec (a header field in reserved bytes, a new
/// record field, both `since: 2`) generates, its generated Swift compiles against our runtime and
/// reads v1 golden files by their own version and v2 files by theirs, `gen diff` calls it
/// compatible, and today's v1 reader refuses a v2 file with HDR-VERSION at byte 0. A v2 that moves
/// a field instead is called breaking.
@Suite struct VersionRehearsalTests {
    typealias Edit = SpecDiffTests.Edit

    static let version2: [Edit] = [
        .layout("  version: 1\n  versions:\n    - version: 1\n      doc: The version the existing implementations (Rust, Java, Python) write and read.\n",
                "  version: 2\n  versions:\n    - version: 1\n      doc: The version the existing implementations (Rust, Java, Python) write and read.\n    - version: 2\n      doc: Adds the writer's process id to the header and the observed time to events.\n"),
        .layout("      - name: reserved\n        offset: 48\n        size: 16\n",
                "      - name: writer_pid\n        offset: 48\n        size: 8\n        type: int64\n        initial: 0\n        since: 2\n        doc: The writer's process id; absent (zero) in version 1 files.\n      - name: reserved\n        offset: 56\n        size: 8\n"),
        .messages("      - {name: attributes, number: 8, type: KeyValueRef, repeated: true}\n\n",
                  "      - {name: attributes, number: 8, type: KeyValueRef, repeated: true}\n      - {name: observed_time_unix_nano, number: 9, type: fixed64, since: 2}\n\n"),
    ]

    @Test func aCompatibleVersionTwoGeneratesAndIsCalledCompatible() throws {
        let folder = try SpecDiffTests.edited(Self.version2, label: #function)
        let v2 = try SpecLoader.load(directory: folder, displayedAs: "v2")
        #expect(v2.layout.versions.map(\.number) == [1, 2])
        #expect(v2.layout.structure(named: "FileHeader")?.field(named: "writer_pid")?.since == 2)
        let files = Generator.generate(v2)
        let structures = try #require(files.first { $0.path.hasSuffix("Layout/Generated/Structures.swift") }?.contents)
        #expect(structures.contains("package func writerPid(inFileOfVersion version: Int64) -> Int64?"))
        let fileLayout = try #require(files.first { $0.path.hasSuffix("Layout/Generated/FileLayout.swift") }?.contents)
        #expect(fileLayout.contains("package static let versions: [Int64] = [1, 2]") && fileLayout.contains("case v2 = 2"))
        #expect(!files.contains { $0.contents.contains("#error") })

        let (old, oldSources) = try SpecSnapshot.load(folder: SpecDiffTests.spec, display: "v1")
        let comparison = SpecDiff.compare(old, v2, oldSources: oldSources, newSources: SpecDiff.Sources(folder: "v2"))
        #expect(SpecDiffTests.summary(comparison) == [
            "version-bumped format.version: -",
            "reserved-taken FileHeader.writer_pid: old-readers-of-new-files",
            "message-field-added Event.observed_time_unix_nano: -",
        ])
        #expect(comparison.verdict == .compatibleWithVersionBump && comparison.exitStatus == 0)
    }

    @Test func aVersionTwoThatMovesAFieldIsCalledBreaking() throws {
        let moved = try #require(SpecDiffTests.fixtures.first { $0.name.hasPrefix("field moved") })
        let folder = try SpecDiffTests.edited(moved.edits + [SpecDiffTests.bump], label: #function)
        let (old, oldSources) = try SpecSnapshot.load(folder: SpecDiffTests.spec, display: "v1")
        let (new, newSources) = try SpecSnapshot.load(folder: folder, display: "v2")
        let comparison = SpecDiff.compare(old, new, oldSources: oldSources, newSources: newSources)
        #expect(comparison.verdict == .breaking)
        #expect(comparison.changes.contains { $0.kind == .fieldMoved && $0.subject == "FileHeader.spans" })
    }

    /// The v2 layout's generated Swift, compiled with the runtime the package built (OTLPMmapWire and
    /// swift-atomics objects) into a small reader, reads a v1 golden file and a v2 file, each by its version.
    @Test(.timeLimit(.minutes(5))) func theGeneratedVersionTwoReaderReadsVersionOneAndTwoFiles() async throws {
        let folder = try SpecDiffTests.edited(Self.version2, label: #function)
        let work = folder.deletingLastPathComponent()
        let sources = work.appendingPathComponent("reader")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        var inputs: [String] = []
        for file in Generator.generate(try SpecLoader.load(directory: folder)) where file.path.hasPrefix("Sources/OTLPMmapLayout/Generated/") {
            let url = sources.appendingPathComponent(URL(fileURLWithPath: file.path).lastPathComponent)
            try file.contents.write(to: url, atomically: true, encoding: .utf8)
            inputs.append(url.path)
        }
        let main = sources.appendingPathComponent("main.swift")
        try Self.readerProgram.write(to: main, atomically: true, encoding: .utf8)
        inputs.append(main.path)

        let build = URL(fileURLWithPath: TestSupport.toolPath).deletingLastPathComponent()
        var checkouts = build
        while !FileManager.default.fileExists(atPath: checkouts.appendingPathComponent("checkouts").path), checkouts.path != "/" {
            checkouts = checkouts.deletingLastPathComponent()
        }
        func objects(_ target: String) throws -> [String] {
            let folder = build.appendingPathComponent("\(target).build")
            return try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".o") && !$0.hasSuffix("swiftmodule.o") }
                .map { folder.appendingPathComponent($0).path }
        }
        // Wire's declarations are `package`: the reader joins the package under the name SwiftPM gave
        // it (the root folder's, so read from the build's own command lines, not assumed).
        let manifest = (try? String(contentsOf: checkouts.appendingPathComponent("debug.yaml"), encoding: .utf8)) ?? ""
        let wireCommand = try #require(manifest.split(separator: "\n").first { $0.contains(#""-module-name","OTLPMmapWire""#) },
                                       "no OTLPMmapWire command in \(checkouts.path)/debug.yaml")
        let packageName = try #require(wireCommand.firstMatch(of: #/"-package-name","([^"]+)"/#)?.output.1, "no -package-name for OTLPMmapWire")
        let binary = work.appendingPathComponent("v2-reader").path
        let arguments = ["swiftc", "-module-name", "VersionTwoLayout", "-package-name", String(packageName), "-I", build.appendingPathComponent("Modules").path,
                         "-I", checkouts.appendingPathComponent("checkouts/swift-atomics/Sources/_AtomicsShims/include").path]
            + inputs + (try objects("OTLPMmapWire")) + (try objects("Atomics")) + (try objects("_AtomicsShims")) + ["-o", binary]
        let compiled = try await TestSupport.run(arguments, executable: "/usr/bin/env", timeout: 240)
        try #require(compiled.status == 0, "\(compiled.stderr.prefix(3_000))")

        // A v1 golden file: known, the v2 header field absent, the v2 record field absent.
        let golden = TestSupport.repositoryRoot.appendingPathComponent("golden/valid/every-ring.otlpmmap")
        let v1 = try await TestSupport.run([golden.path], executable: binary)
        #expect(v1.status == 0, "\(v1.stderr)")
        #expect(v1.stdout == "version 1 (v1) writer_pid absent reserved zero; first event: severity_text \"\" observed absent\n", "\(v1.stdout)")

        // The same file as a v2 writer would have written it: version 2, a writer_pid.
        var bytes = try Data(contentsOf: golden)
        bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: Int64(2).littleEndian) { Data($0) })
        bytes.replaceSubrange(48..<56, with: withUnsafeBytes(of: Int64(4242).littleEndian) { Data($0) })
        let v2File = work.appendingPathComponent("v2.otlpmmap")
        try bytes.write(to: v2File)
        let v2 = try await TestSupport.run([v2File.path], executable: binary)
        #expect(v2.stdout.hasPrefix("version 2 (v2) writer_pid 4242 reserved zero"), "\(v2.stdout)\(v2.stderr)")

        // Today's reader (version 1) refuses it by its version, at the version field's offset.
        // (Its writer_pid bytes are reserved in version 1, so HDR-RESERVED comes too.)
        let checked = try await TestSupport.run(["conform", "check", "--format", "json", v2File.path])
        #expect(checked.status != 0)
        let report = try JSONSerialization.jsonObject(with: Data(checked.stdout.utf8)) as? [String: Any]
        let findings = ((report?["files"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]]) ?? []
        #expect(findings.map { "\($0["rule"] ?? "") at \($0["offset"] ?? "")" } == ["HDR-VERSION at 0", "HDR-RESERVED at 48"], "\(checked.stdout)")
        #expect(findings.first?["message"] as? String == "version is 2; this reader knows version 1")
        // And a v1 file whose bytes the v2 field would take is not a v1 file: they are reserved.
        bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: Int64(1).littleEndian) { Data($0) })
        try bytes.write(to: v2File)
        let reserved = try await TestSupport.run([v2File.path], executable: binary)
        #expect(reserved.stdout.hasPrefix("version 1 (v1) writer_pid absent reserved not zero"), "\(reserved.stdout)")
    }

    /// Reads the header and the first event record of the file named by its argument with the
    /// generated layout alone.
    static let readerProgram = #"""
        import OTLPMmapWire
        #if canImport(Glibc)
        import Glibc
        #endif

        func fail(_ message: String) -> Never {
            print("error: \(message)")
            exit(1)
        }
        guard CommandLine.arguments.count == 2, let file = fopen(CommandLine.arguments[1], "rb") else { fail("usage: v2-reader FILE") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while case let count = fread(&chunk, 1, chunk.count, file), count > 0 { bytes += chunk[0..<count] }
        fclose(file)
        bytes.withUnsafeMutableBytes { buffer in
            do {
                let header = try FileHeaderView(in: buffer, at: 0, rule: .hdrSize)
                guard FileLayout.knows(header.version), let version = FormatVersion(rawValue: header.version) else { fail("version \(header.version) is unknown") }
                let pid = header.writerPid(inFileOfVersion: header.version).map(String.init) ?? "absent"
                let reserved = header.reservedIsZero(inFileOfVersion: header.version) ? "zero" : "not zero"
                let ring = try RingHeaderView(in: buffer, at: Int(header.events), rule: .hdrSectionBounds)
                guard let slots = RingLayout.slotsOffset(numBuffers: ring.numBuffers, bufferSize: ring.bufferSize) else { fail("ring sizes overflow") }
                let slot = Int(header.events + slots)
                var reader = ProtoReader(UnsafeRawBufferPointer(rebasing: buffer[slot...]), baseOffset: slot)
                let length = Int(try reader.readVarint())
                let start = reader.fileOffset
                var record = ProtoReader(UnsafeRawBufferPointer(rebasing: buffer[start..<(start + length)]), baseOffset: start)
                let event = try Event(from: &record)
                let observed = event.observedTimeUnixNano == 0 ? "absent" : String(event.observedTimeUnixNano)
                print("version \(header.version) (\(version)) writer_pid \(pid) reserved \(reserved); first event: severity_text \"\(event.severityText)\" observed \(observed)")
            } catch {
                fail("\(error)")
            }
        }
        """#
}

import Foundation
import OTLPMmapLayout
import OTLPMmapWire
import Testing
import TestSupport

/// The generated C header (generated/c/otlp_mmap_layout.h), compiled by the machine's C compiler as
/// a third-party writer would: its constants, struct views, ring formulas and rule list must say
/// what the generated Swift layout says (both come from spec/), and its static asserts must stop a
/// build whose layout was edited by hand.
@Suite struct CHeaderTests {
    static let header = TestSupport.repositoryRoot.appendingPathComponent("generated/c/otlp_mmap_layout.h")

    /// Compiles `program` (C11, every warning an error) against the header in `include`, runs it and
    /// returns its output; a compile failure is returned as (false, the compiler's messages).
    func compileAndRun(_ program: String, include: URL = header.deletingLastPathComponent(), label: String = #function) async throws -> (compiled: Bool, output: String) {
        let folder = try TestSupport.temporaryDirectory(label)
        let source = folder.appendingPathComponent("program.c"), binary = folder.appendingPathComponent("program")
        try program.write(to: source, atomically: true, encoding: .utf8)
        let compiler = try await TestSupport.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", include.path, "-o", binary.path, source.path],
                                                 executable: "/usr/bin/env")
        guard compiler.status == 0 else { return (false, compiler.stderr + compiler.stdout) }
        let run = try await TestSupport.run([], executable: binary.path)
        #expect(run.status == 0, "\(run.stderr)")
        return (true, run.stdout)
    }

    @Test func theHeaderSaysWhatTheGeneratedSwiftLayoutSays() async throws {
        let structures: [(macro: String, size: Int, fields: [LayoutFieldInfo])] = [
            ("FILE_HEADER", FileHeaderView.size, FileHeaderView.fields),
            ("RING_HEADER", RingHeaderView.size, RingHeaderView.fields),
            ("DICTIONARY_HEADER", DictionaryHeaderView.size, DictionaryHeaderView.fields),
        ]
        var lines: [String] = [], expected: [String] = []
        func print(_ label: String, _ format: String, _ arguments: String, expecting value: String) {
            lines.append("    printf(\"\(label) \(format)\\n\", \(arguments));")
            expected.append("\(label) \(value)")
        }
        print("version", "%d", "OTLP_MMAP_FORMAT_VERSION", expecting: "\(FileLayout.version)")
        print("knows", "%d %d %d", "OTLP_MMAP_KNOWS_VERSION(1), OTLP_MMAP_KNOWS_VERSION(0), OTLP_MMAP_KNOWS_VERSION(\(FileLayout.version + 1))",
              expecting: [1, 0, FileLayout.version + 1].map { FileLayout.knows($0) ? "1" : "0" }.joined(separator: " "))
        for structure in structures {
            let prefix = "OTLP_MMAP_\(structure.macro)"
            print(structure.macro, "%d %zu", "\(prefix)_SIZE, sizeof(otlp_mmap_\(structure.macro.lowercased()))", expecting: "\(structure.size) \(structure.size)")
            for field in structure.fields {
                let name = "\(prefix)_\(field.name.uppercased())"
                print("\(structure.macro).\(field.name)", "%d %d %zu", "\(name)_OFFSET, \(name)_SIZE, offsetof(otlp_mmap_\(structure.macro.lowercased()), \(field.name))",
                      expecting: "\(field.offset) \(field.size) \(field.offset)")
            }
        }
        for (numBuffers, bufferSize) in [(Int64(1), Int64(2)), (1024, 512), (4, 33)] {
            let call = { (name: String) in "({ int64_t v = -7; otlp_mmap_ring_\(name)(\(numBuffers), \(bufferSize), &v) == 0 ? v : -7; })" }
            print("ring \(numBuffers)x\(bufferSize)", "%lld %lld %lld", "(long long)\(call("availability_offset")), (long long)\(call("slots_offset")), (long long)\(call("byte_size"))",
                  expecting: "\(RingLayout.availabilityOffset(numBuffers: numBuffers, bufferSize: bufferSize)!) \(RingLayout.slotsOffset(numBuffers: numBuffers, bufferSize: bufferSize)!) \(RingLayout.byteSize(numBuffers: numBuffers, bufferSize: bufferSize)!)")
        }
        let overflow = "({ int64_t v; otlp_mmap_ring_byte_size(1ll << 40, 1ll << 40, &v); })"
        print("overflow", "%d %d", "\(overflow), ({ int64_t v; otlp_mmap_ring_byte_size(-4, 8, &v); })", expecting: "-1 -1")
        for sequence: Int64 in [0, 5, 1024, 4_294_967_295, 4_294_967_296 * 3 + 2048] {
            print("flag \(sequence)", "%d %d %lld", "otlp_mmap_flag(\(sequence)ll, 10), otlp_mmap_alternative_flag(\(sequence)ll, 10), (long long)otlp_mmap_slot_index(\(sequence)ll, 1024)",
                  expecting: "\(RingLayout.flag(sequence: sequence, log2NumBuffers: 10)) \(RingLayout.alternativeFlag(sequence: sequence, log2NumBuffers: 10)) \(RingLayout.slotIndex(sequence: sequence, numBuffers: 1024))")
        }
        print("first entry", "%lld", "(long long)otlp_mmap_first_entry_offset(1000)", expecting: "\(DictionaryLayout.firstEntryOffset(dictionaryOffset: 1000))")
        lines.append("#define RULE(name, id, level, origin) printf(\"rule %s %s %s %d\\n\", id, #level, #origin, strcmp(id, OTLP_MMAP_RULE_##name) == 0);")
        lines.append("    OTLP_MMAP_RULES(RULE)")
        expected += RuleCatalogue.all.map { "rule \($0.id.rawValue) \($0.level.rawValue) \($0.origin.rawValue.uppercased()) 1" }

        let program = """
            #include <stdio.h>
            #include <string.h>
            #include "otlp_mmap_layout.h"
            int main(void) {
            \(lines.joined(separator: "\n"))
                return 0;
            }
            """
        let (compiled, output) = try await compileAndRun(program)
        try #require(compiled, "\(output)")
        #expect(output.split(separator: "\n").map(String.init) == expected)
    }

    @Test func aHandEditedOffsetStopsTheBuild() async throws {
        let folder = try TestSupport.temporaryDirectory()
        let original = try String(contentsOf: Self.header, encoding: .utf8)
        let edited = original.replacingOccurrences(of: "#define OTLP_MMAP_FILE_HEADER_SPANS_OFFSET 16\n", with: "#define OTLP_MMAP_FILE_HEADER_SPANS_OFFSET 20\n")
        #expect(edited != original)
        try edited.write(to: folder.appendingPathComponent("otlp_mmap_layout.h"), atomically: true, encoding: .utf8)
        let program = "#include \"otlp_mmap_layout.h\"\nint main(void) { return 0; }\n"
        let (compiled, output) = try await compileAndRun(program, include: folder)
        #expect(!compiled)
        #expect(output.contains("FileHeader.spans is at byte 16"), "\(output)")
        // The unedited header compiles.
        #expect(try await compileAndRun(program).compiled)
    }
}

import Foundation
import OTLPMmapSpec
import Testing

/// The `.proto` reader behind the collector's generated OTLP field numbers.
@Suite struct ProtoFieldsLoaderTests {
    static let sample = """
        syntax = "proto3";
        // A comment with message Fake { int32 x = 9; } in it.
        package demo.v1;
        import "other.proto";
        option java_package = "x.y";

        /* A block comment
           over two lines. */
        message Outer {
          reserved 2, 3;
          repeated Inner inner = 1;
          map<string, int64> counts = 4;
          oneof choice {
            string text = 5;
            bytes raw = 6 [deprecated = true];
          }
          enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; }
          Kind kind = 7;
          message Inner {
            optional fixed64 time_unix_nano = 16;
          }
        }
        service Nothing { rpc Do(Outer) returns (Outer) {} }
        """

    @Test func messagesFieldsAndNestingAreRead() throws {
        let messages = try ProtoFieldsLoader.parse(Self.sample, file: "demo.proto")
        #expect(messages.map(\.fullName) == ["demo.v1.Outer"])
        let outer = try #require(messages.first)
        #expect(outer.fields.map(\.name) == ["inner", "counts", "text", "raw", "kind"])
        #expect(outer.fields.map(\.number) == [1, 4, 5, 6, 7])
        #expect(outer.nested.map(\.fullName) == ["demo.v1.Outer.Inner"])
        #expect(outer.nested.first?.fields.map(\.number) == [16])
        #expect(outer.source == "demo.proto:9")
    }

    @Test(arguments: [
        ("message A { int32 x 1; }", 1, "expected '='"),
        ("message A {\n int32 x = 0; }", 2, "is not a field number"),
        ("message A {\n int32 x = 1;\n int64 y = 1; }", 3, "used twice"),
        ("message A { int32 x = 1;", 1, "unexpected end of file"),
        ("/* open", 1, "comment not closed"),
        ("message A {\n string s = 1 [default = \"x];\n}", 2, "string literal not closed"),
    ])
    func mistakesAreNamedWithFileAndLine(text: String, line: Int, message: String) {
        #expect {
            _ = try ProtoFieldsLoader.parse(text, file: "bad.proto")
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            return error.file == "bad.proto" && error.line == line && error.message.contains(message)
        }
    }

    @Test func theRepositorysOTLPProtosLoadWithTheFieldsTheCollectorWrites() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let spec = try SpecLoader.load(directory: root.appendingPathComponent("spec"))
        let otlp = try #require(spec.otlp)
        #expect(otlp.files.count >= 8, "spec/otlp's trace, logs, metrics, common, resource and collector protos")
        let span = try #require(otlp.messages.first { $0.fullName == "opentelemetry.proto.trace.v1.Span" })
        // Published opentelemetry-proto numbers.
        #expect(span.fields.first { $0.name == "trace_id" }?.number == 1)
        #expect(span.fields.first { $0.name == "flags" }?.number == 16)
        #expect(span.nested.map(\.name).sorted() == ["Event", "Link"])
    }

    @Test func aMessageNameDeclaredInTwoFilesIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("protos-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("b"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "package a;\nmessage Same { int32 x = 1; }".write(to: folder.appendingPathComponent("a.proto"), atomically: true, encoding: .utf8)
        try "package b;\nmessage Same { int32 y = 1; }".write(to: folder.appendingPathComponent("b/b.proto"), atomically: true, encoding: .utf8)
        #expect {
            _ = try ProtoFieldsLoader.load(directory: folder, displayedAs: "spec/otlp")
        } throws: { error in
            (error as? SpecError)?.description.contains("message 'Same' is declared twice") == true
        }
    }
}

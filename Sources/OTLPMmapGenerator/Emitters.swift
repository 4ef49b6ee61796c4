import OTLPMmapSpec

/// One output language of the generator: every file it writes from the spec. Adding a language is
/// adding one type here (and its folder beside Swift/, Proto/, Docs/, C/) to `Generator.emitters`.
protocol OutputEmitter: SendableMetatype {
    /// The files of the record format (spec/layout.yaml and spec/messages.yaml).
    static func formatFiles(_ spec: Spec, _ header: GeneratedHeader, examples: RuleExamples) -> [GeneratedFile]
    /// The files of the testee protocol (spec/testee.yaml); none by default.
    static func testeeFiles(_ schema: MessageSchema, _ header: GeneratedHeader) -> [GeneratedFile]
}

extension OutputEmitter {
    static func testeeFiles(_ schema: MessageSchema, _ header: GeneratedHeader) -> [GeneratedFile] { [] }
}

/// The Swift layout (module OTLPMmapLayout), the testee messages and the runner's checks.
enum SwiftOutput: OutputEmitter {
    static func formatFiles(_ spec: Spec, _ header: GeneratedHeader, examples: RuleExamples) -> [GeneratedFile] {
        [
            GeneratedFile(path: "Sources/OTLPMmapLayout/Generated/Rules.swift", contents: SwiftRulesEmitter.emit(spec, header)),
            GeneratedFile(path: "Sources/OTLPMmapLayout/Generated/Structures.swift", contents: SwiftStructuresEmitter.emit(spec, header)),
            GeneratedFile(path: "Sources/OTLPMmapLayout/Generated/FileLayout.swift", contents: SwiftFileLayoutEmitter.emit(spec, header)),
            GeneratedFile(path: "Sources/OTLPMmapLayout/Generated/Messages.swift", contents: SwiftMessagesEmitter.emit(spec, header)),
        ]
    }

    static func testeeFiles(_ schema: MessageSchema, _ header: GeneratedHeader) -> [GeneratedFile] {
        [
            GeneratedFile(path: "Sources/OTLPMmapTestee/Generated/TesteeMessages.swift", contents: SwiftMessagesEmitter.emit(
                schema, header, catalogue: "TesteeMessageCatalogue", catalogueDoc: "The testee protocol's messages by name.")),
            GeneratedFile(path: "Sources/OTLPMmapConformance/Generated/RunnerChecks.swift", contents: SwiftRunnerChecksEmitter.emit(schema, header)),
        ]
    }
}

/// proto3 schemas for other languages' code generators.
enum ProtoOutput: OutputEmitter {
    static func formatFiles(_ spec: Spec, _ header: GeneratedHeader, examples: RuleExamples) -> [GeneratedFile] {
        [GeneratedFile(path: Generator.protoPath(spec.messages, file: "mmap.proto"), contents: ProtoEmitter.emit(spec, header))]
    }

    static func testeeFiles(_ schema: MessageSchema, _ header: GeneratedHeader) -> [GeneratedFile] {
        [GeneratedFile(path: Generator.protoPath(schema, file: "testee.proto"), contents: ProtoEmitter.emit(schema, header))]
    }
}

/// docs/: Markdown pages and the byte-layout picture. (The HTML pages are built on demand by
/// `gen docs --html`, not committed: `HTMLEmitter`.)
enum MarkdownOutput: OutputEmitter {
    static func formatFiles(_ spec: Spec, _ header: GeneratedHeader, examples: RuleExamples) -> [GeneratedFile] {
        [
            GeneratedFile(path: "docs/layout.md", contents: DocsEmitter.layout(spec, header)),
            GeneratedFile(path: "docs/messages.md", contents: DocsEmitter.messages(spec, header)),
            GeneratedFile(path: "docs/rules.md", contents: DocsEmitter.rules(spec, header, examples: examples)),
            GeneratedFile(path: "docs/file-layout.svg", contents: SVGEmitter.emit(spec, header)),
        ]
    }

    static func testeeFiles(_ schema: MessageSchema, _ header: GeneratedHeader) -> [GeneratedFile] {
        [GeneratedFile(path: "docs/testee.md", contents: DocsEmitter.testee(schema, header))]
    }
}

/// The C header for writers and readers in C.
enum COutput: OutputEmitter {
    static func formatFiles(_ spec: Spec, _ header: GeneratedHeader, examples: RuleExamples) -> [GeneratedFile] {
        [GeneratedFile(path: CHeaderEmitter.path, contents: CHeaderEmitter.emit(spec, header))]
    }
}

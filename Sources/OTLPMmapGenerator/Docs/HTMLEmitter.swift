import OTLPMmapSpec

/// The spec as a small static site (`otlp-mmap gen docs --html OUT`): the structures' tables and the
/// byte map, the record messages, and the rule catalogue with every rule at a stable anchor named
/// by its ID (`rules.html#RING-HOLE`) — the anchor the conformance reports link their findings to.
/// Pages link to each other only by relative paths, so the folder can be served or opened as files.
package enum HTMLEmitter {
    /// The pages and the byte-map picture, by path inside OUT; `examples` are the golden files each
    /// rule cites (linked under `golden/`, which the command copies next to the pages).
    package static func site(_ spec: Spec, examples: RuleExamples) -> [GeneratedFile] {
        let header = GeneratedHeader(sources: spec.sourceFiles)
        return [
            GeneratedFile(path: "index.html", contents: index(spec, header)),
            GeneratedFile(path: "layout.html", contents: layout(spec, header)),
            GeneratedFile(path: "messages.html", contents: messages(spec, header)),
            GeneratedFile(path: "rules.html", contents: rules(spec, header, examples: examples)),
            GeneratedFile(path: "file-layout.svg", contents: SVGEmitter.emit(spec, header)),
        ] + (spec.readers.map { [GeneratedFile(path: "readers.html", contents: readers($0, spec, header))] } ?? [])
    }

    static let pages = [("index.html", "Overview"), ("layout.html", "File layout"), ("messages.html", "Record messages"), ("rules.html", "Rules")]

    /// The pages the navigation lists: the readers' chapter when the spec has one.
    static func pages(_ spec: Spec) -> [(String, String)] {
        pages + (spec.readers == nil ? [] : [("readers.html", "Readers")])
    }

    /// What a reader must do (spec/readers.yaml), every check at an anchor named by its ID
    /// (`readers.html#READ-SKIP-HOLE`), the anchor collector testbed reports link to.
    static func readers(_ readers: ReaderChecks, _ spec: Spec, _ header: GeneratedHeader) -> String {
        var body = "<p>\(prose(readers.doc))</p>\n"
        body += "<p>MUST checks are Required, SHOULD checks Recommended. Origins: <code>protocol</code>, the upstream written "
        body += "specification states it; <code>defect</code>, it guards against a known defect of the existing collector; "
        body += "<code>otlp</code>, OTLP's own rules for exporters; <code>project</code>, this project's requirement.</p>\n"
        body += "<table>\n<tr><th>ID</th><th>level</th><th>check</th><th>origin</th></tr>\n"
        for check in readers.checks {
            let level = check.level == .must ? "must" : "should"
            body += "<tr id=\"\(escape(check.id))\"><td><a href=\"#\(escape(check.id))\">\(escape(check.id))</a></td>"
            body += "<td class=\"\(level)\">\(check.level.rawValue)</td><td>\(prose(check.text))</td>"
            body += "<td>\(escape(check.origin?.rawValue ?? "project")): \(prose(check.source ?? ""))</td></tr>\n"
        }
        return page("Readers", spec, header, body + "</table>\n")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Text from the spec with `code` spans kept as code.
    static func prose(_ text: String) -> String {
        let parts = escape(text).split(separator: "`", omittingEmptySubsequences: false)
        return parts.enumerated().map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : String($0.element) }.joined()
    }

    static func page(_ title: String, _ spec: Spec, _ header: GeneratedHeader, _ body: String) -> String {
        let navigation = pages(spec).map { "<a href=\"\($0.0)\">\($0.1)</a>" }.joined(separator: " · ")
        return """
            <!DOCTYPE html>
            <!-- \(escape(header.lines.joined(separator: " "))) -->
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(escape(spec.layout.formatName)) — \(escape(title))</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #1b1b1b; }
            table { border-collapse: collapse; margin: 1rem 0; width: 100%; }
            th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
            th { background: #f2f2f2; }
            code { background: #f5f5f5; padding: 0 0.2rem; }
            nav { margin-bottom: 1.5rem; }
            tr:target, section:target { background: #fff6cc; }
            .must { color: #a30000; font-weight: 600; } .should { color: #8a5a00; }
            </style>
            </head>
            <body>
            <nav>\(navigation)</nav>
            <h1>\(escape(spec.layout.formatName)) — \(escape(title))</h1>
            \(body)
            </body>
            </html>

            """
    }

    static func index(_ spec: Spec, _ header: GeneratedHeader) -> String {
        let layout = spec.layout
        var body = "<p>\(prose(layout.doc))</p>\n"
        body += "<p>Format version \(layout.version). Versions this spec describes:</p>\n<ul>\n"
        for version in layout.versions { body += "<li>\(version.number)\(version.doc.isEmpty ? "" : ": \(prose(version.doc))")</li>\n" }
        body += "</ul>\n<ul>\n"
        body += "<li><a href=\"layout.html\">File layout</a>: \(layout.structures.count) structures, \(layout.rings.count) rings, the dictionary, the <a href=\"layout.html#byte-map\">byte map</a>.</li>\n"
        body += "<li><a href=\"messages.html\">Record messages</a>: \(spec.messages.messages.count) messages, \(spec.messages.enums.count) enums (package <code>\(escape(spec.messages.package))</code>).</li>\n"
        body += "<li><a href=\"rules.html\">Rules</a>: \(layout.rules.count) rules, each at its own anchor, each with the golden files that break it.</li>\n"
        if let readers = spec.readers {
            body += "<li><a href=\"readers.html\">Readers</a>: \(readers.checks.count) checks of what a reader (a collector) must do with any writer's file.</li>\n"
        }
        return page("Overview", spec, header, body + "</ul>\n")
    }

    static func ruleLinks(_ ids: [String]) -> String {
        ids.map { "<a href=\"rules.html#\($0)\">\($0)</a>" }.joined(separator: " ")
    }

    static func layout(_ spec: Spec, _ header: GeneratedHeader) -> String {
        let layout = spec.layout
        var body = "<p>All integers are little-endian. Offsets are in bytes. <em>Atomic</em> fields are only read and written with atomic operations.</p>\n"
        body += "<h2 id=\"byte-map\">Byte map</h2>\n<p><img src=\"file-layout.svg\" alt=\"Byte layout of a file\" style=\"max-width:100%\"></p>\n"
        body += "<h2 id=\"file\">The file</h2>\n<p>\(prose(layout.fileDoc))</p>\n<table>\n<tr><th>#</th><th>section</th><th>content</th><th>located by</th></tr>\n"
        for (index, section) in layout.sections.enumerated() {
            let content: String
            switch section.content {
            case .structure(let name): content = "<a href=\"#\(name)\">\(name)</a>"
            case .ring(let name): content = "ring of <a href=\"messages.html#\(layout.rings.first { $0.name == name }!.record)\">\(layout.rings.first { $0.name == name }!.record)</a> records"
            case .dictionary: content = "<a href=\"#dictionary\">dictionary</a>"
            }
            let located = section.locatedBy.map { "<code>\($0.structure).\($0.field)</code>" } ?? "offset 0"
            body += "<tr><td>\(index)</td><td>\(section.name)</td><td>\(content)</td><td>\(located)</td></tr>\n"
        }
        body += "</table>\n"
        for structure in layout.structures {
            body += "<h2 id=\"\(structure.name)\">\(structure.name)</h2>\n<p>\(structure.size) bytes. \(prose(structure.doc))</p>\n"
            body += "<table>\n<tr><th>offset</th><th>size</th><th>type</th><th>atomic</th><th>name</th><th>initial</th><th>since</th><th>rules</th><th>meaning</th></tr>\n"
            for field in structure.fields {
                body += "<tr id=\"\(structure.name).\(field.name)\"><td>\(field.offset)</td><td>\(field.size)</td><td>\(field.type.rawValue)</td><td>\(field.atomic ? "yes" : "")</td>"
                body += "<td><code>\(field.name)</code></td><td>\(DocsEmitter.initialText(field.initial))</td><td>\(field.since)\(field.deprecated.map { ", deprecated \($0)" } ?? "")</td>"
                body += "<td>\(ruleLinks(field.rules))</td><td>\(prose(field.doc))</td></tr>\n"
            }
            body += "</table>\n"
        }
        body += "<h2 id=\"ring\">Ring</h2>\n<p>\(prose(layout.ringDoc))</p>\n<p>Ring byte size = \(escape(layout.ringSizeFormula)).</p>\n"
        body += "<table>\n<tr><th>part</th><th>rules</th><th>meaning</th></tr>\n"
        for part in layout.ringParts {
            body += "<tr><td>\(part.name)</td><td>\(ruleLinks(part.rules))</td><td>\(prose(part.doc))</td></tr>\n"
        }
        body += "</table>\n<ul>\n<li>slot index: <code>\(escape(layout.sequence.slotIndex))</code></li>\n"
        body += "<li>flag: <code>\(escape(layout.sequence.flag))</code></li>\n<li>flag (other writers): <code>\(escape(layout.sequence.flagAlternative))</code></li>\n</ul>\n"
        body += "<p>\(prose(layout.sequence.doc))</p>\n"
        body += "<h2 id=\"dictionary\">Dictionary</h2>\n<p>\(prose(layout.dictionaryDoc))</p>\n<p>Entry kinds: "
        body += layout.entryKinds.map { kind in kind.message.map { "<a href=\"messages.html#\($0)\">\(kind.name)</a>" } ?? kind.name }.joined(separator: ", ") + ".</p>\n"
        return page("File layout", spec, header, body)
    }

    static func messages(_ spec: Spec, _ header: GeneratedHeader) -> String {
        let schema = spec.messages
        var body = "<p>Protobuf, proto3, package <code>\(escape(schema.package))</code>. Field numbers are the wire contract. A <em>ref</em> field holds the file offset of a dictionary entry of the kind named; 0 means none.</p>\n"
        func typeCell(_ type: MessageFieldType) -> String {
            switch type {
            case .scalar(let scalar): scalar.rawValue
            case .enumeration(let name), .message(let name): "<a href=\"#\(name)\">\(schema.qualifiedName(of: name))</a>"
            }
        }
        for message in schema.messages {
            body += "<section id=\"\(message.name)\">\n<h2>\(schema.qualifiedName(of: message.name))</h2>\n<p>\(prose(message.doc))</p>\n"
            if !message.reserved.isEmpty { body += "<p>Reserved field numbers: \(message.reserved.map(String.init).joined(separator: ", ")).</p>\n" }
            if message.fields.isEmpty {
                body += "<p>No fields.</p>\n</section>\n"
                continue
            }
            body += "<table>\n<tr><th>number</th><th>name</th><th>type</th><th>label</th><th>notes</th><th>rules</th></tr>\n"
            for field in message.fields {
                var notes: [String] = []
                if let oneof = field.oneof { notes.append("oneof <code>\(oneof)</code>") }
                if field.since > 1 { notes.append("since version \(field.since)") }
                if let deprecated = field.deprecated { notes.append("deprecated from version \(deprecated)") }
                if let ref = field.ref { notes.append("ref → \(ref)") }
                if let length = field.length { notes.append("\(length) bytes") }
                body += "<tr><td>\(field.number)</td><td><code>\(field.name)</code></td><td>\(typeCell(field.type))</td><td>\(field.repeated ? "repeated" : "")</td>"
                body += "<td>\(notes.joined(separator: "; "))</td><td>\(ruleLinks(field.rules))</td></tr>\n"
            }
            body += "</table>\n</section>\n"
        }
        body += "<h2 id=\"enums\">Enums</h2>\n"
        for enumeration in schema.enums {
            body += "<section id=\"\(enumeration.name)\">\n<h3>\(schema.qualifiedName(of: enumeration.name))</h3>\n<p>\(prose(enumeration.doc))</p>\n<table>\n<tr><th>number</th><th>name</th></tr>\n"
            for value in enumeration.values { body += "<tr><td>\(value.number)</td><td><code>\(value.name)</code></td></tr>\n" }
            body += "</table>\n</section>\n"
        }
        return page("Record messages", spec, header, body)
    }

    static func rules(_ spec: Spec, _ header: GeneratedHeader, examples: RuleExamples) -> String {
        var body = "<p>Every rule has a stable ID, and this page an anchor of that ID (<code>rules.html#RING-HOLE</code>) that errors, the checker's reports and the golden files cite. "
        body += "<em>protocol</em> rules are what the upstream written specification states normatively; <em>project</em> rules follow from protobuf and OTLP or are this project's additions. "
        body += "The golden files listed break the rule on purpose.</p>\n"
        body += "<table>\n<tr><th>ID</th><th>level</th><th>origin</th><th>rule</th><th>constrains</th><th>golden files</th></tr>\n"
        for rule in spec.layout.rules {
            let constrains = spec.citations(of: rule.id).map { citation in
                switch citation {
                case .layoutField(let structure, let field): "<a href=\"layout.html#\(structure).\(field)\">\(structure).\(field)</a>"
                case .ringPart(let part): "<a href=\"layout.html#ring\">ring \(part)</a>"
                case .messageField(let message, let field): "<a href=\"messages.html#\(message)\">\(message).\(field)</a>"
                }
            }
            let golden = examples.files(for: rule.id).map { "<a href=\"golden/\($0)\">\(escape($0))</a>" }.joined(separator: "<br>")
            body += "<tr id=\"\(rule.id)\"><td><a href=\"#\(rule.id)\"><code>\(rule.id)</code></a></td><td class=\"\(rule.level.rawValue.lowercased())\">\(rule.level.rawValue)</td>"
            body += "<td>\(rule.origin.rawValue)</td><td>\(prose(rule.text))</td><td>\(constrains.joined(separator: ", "))</td><td>\(golden)</td></tr>\n"
        }
        return page("Rules", spec, header, body + "</table>\n")
    }
}

import Foundation

/// The pages could not be written where asked.
package struct SiteError: Error, CustomStringConvertible {
    package var description: String
}

extension HTMLEmitter {
    /// Writes the site into `folder` (created if needed) with the golden files the rules cite, copied
    /// from `root`/golden so that their links work wherever the folder goes. Returns the paths written.
    @discardableResult
    package static func write(_ spec: Spec, examples: RuleExamples, root: URL, to folder: URL) throws -> [String] {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw SiteError(description: "\(folder.path) is a file, not a folder for the pages")
        }
        var written: [String] = []
        for file in site(spec, examples: examples) {
            let url = folder.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: url, options: .atomic)
            written.append(file.path)
        }
        for golden in Set(examples.filesByRule.values.flatMap { $0 }).sorted() {
            let source = root.appendingPathComponent("golden").appendingPathComponent(golden)
            let target = folder.appendingPathComponent("golden").appendingPathComponent(golden)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: source, to: target)
            written.append("golden/\(golden)")
        }
        return written
    }
}

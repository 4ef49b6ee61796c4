import OTLPMmapSpec

/// Draws the byte layout of a file: the sections in file order, then each fixed structure with its
/// fields drawn to scale, and the parts of a ring. Plain SVG with no script, so documentation sites
/// and GitHub render it as is.
enum SVGEmitter {
    static let width = 960
    static let margin = 30
    static let rowHeight = 44

    static func emit(_ spec: Spec, _ header: GeneratedHeader) -> String {
        let layout = spec.layout
        var rows: [String] = []
        var y = 50

        // The file, schematically: fixed widths, since rings and dictionary have writer-chosen sizes.
        rows.append(label("File (not to scale)", x: margin, y: y - 8, bold: true))
        let sectionNames = layout.sections.map { section -> (String, String) in
            switch section.content {
            case .structure(let name): (section.name, "\(name), \(layout.structure(named: name)!.size) B")
            case .ring(let name): (section.name, "ring of \(layout.rings.first { $0.name == name }!.record)")
            case .dictionary: (section.name, "grows →")
            }
        }
        let usable = width - 2 * margin
        let sectionWidth = usable / max(1, sectionNames.count)
        for (index, (name, detail)) in sectionNames.enumerated() {
            rows.append(box(x: margin + index * sectionWidth, y: y, width: sectionWidth, title: name, detail: detail, fill: fill(index)))
        }
        y += rowHeight + 40

        for structure in layout.structures {
            rows.append(label("\(structure.name) — \(structure.size) bytes (to scale)", x: margin, y: y - 8, bold: true))
            for field in structure.fields {
                let x = margin + field.offset * usable / structure.size
                let w = field.size * usable / structure.size
                let detail = "+\(field.offset) \(field.type.rawValue)\(field.atomic ? " ⚛" : "")"
                rows.append(box(x: x, y: y, width: w, title: field.name, detail: detail, fill: field.atomic ? "#fde2c8" : "#e8eef7"))
            }
            y += rowHeight + 40
        }

        rows.append(label("Ring (not to scale): \(layout.ringSizeFormula) bytes", x: margin, y: y - 8, bold: true))
        let partWidth = usable / max(1, layout.ringParts.count)
        for (index, part) in layout.ringParts.enumerated() {
            let detail: String
            switch part.content {
            case .structure(let name): detail = "\(layout.structure(named: name)!.size) B"
            case .array(let count, let element): detail = "\(count) × \(element.type.rawValue)"
            case .blocks(let count, let size): detail = "\(count) × \(size) B"
            }
            rows.append(box(x: margin + index * partWidth, y: y, width: partWidth, title: part.name, detail: detail, fill: fill(index + 1)))
        }
        y += rowHeight + 24
        rows.append(label("⚛ atomic field: read and written with atomic operations", x: margin, y: y, bold: false))
        y += 16

        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg += header.xml
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\(quote(y)) viewBox=\"0 0 \(width) \(y)\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\(quote(y)) fill=\"#ffffff\"/>\n"
        svg += "<text x=\"\(margin)\" y=\"22\" font-size=\"16\" font-weight=\"bold\">\(escape(layout.formatName)) version \(layout.version): byte layout</text>\n"
        svg += rows.joined()
        svg += "</svg>\n"
        return svg
    }

    static func fill(_ index: Int) -> String {
        ["#dbe9d8", "#e8eef7", "#f7e8e8", "#f2ecd9", "#e9e2f3"][index % 5]
    }

    static func box(x: Int, y: Int, width: Int, title: String, detail: String, fill: String) -> String {
        let center = x + width / 2
        return "<g><rect x=\(quote(x)) y=\(quote(y)) width=\(quote(width)) height=\(quote(rowHeight)) fill=\"\(fill)\" stroke=\"#333333\"/>"
            + "<text x=\(quote(center)) y=\(quote(y + 18)) font-size=\(quote(titleFontSize(title, width: width))) text-anchor=\"middle\">\(escape(title))</text>"
            + "<text x=\(quote(center)) y=\(quote(y + 34)) font-size=\"10\" text-anchor=\"middle\" fill=\"#555555\">\(escape(detail))</text></g>\n"
    }

    /// 11 px, or smaller when the title would not fit the box (about 0.6 em per character).
    static func titleFontSize(_ title: String, width: Int) -> Int {
        max(7, min(11, (width - 6) * 10 / max(1, title.count * 6)))
    }

    static func label(_ text: String, x: Int, y: Int, bold: Bool) -> String {
        "<text x=\(quote(x)) y=\(quote(y)) font-size=\"12\"\(bold ? " font-weight=\"bold\"" : "")>\(escape(text))</text>\n"
    }

    static func quote(_ value: Int) -> String { "\"\(value)\"" }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

import Foundation

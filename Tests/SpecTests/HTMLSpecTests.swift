import Foundation
import OTLPMmapLayout
import OTLPMmapSpec
import Testing
import TestSupport

/// `otlp-mmap gen docs --html` checked in a real browser: headless Chromium (Debian's `chromium`,
/// installed by tools/test.sh) loads the pages from a local web server, a checker page running in
/// it finds every rule's anchor and follows every internal link, and a screenshot is taken. The
/// same checker, given pages with a removed anchor and a broken link, reports both.
@Suite(.serialized) struct HTMLSpecTests {
    /// A page that loads the site's pages in the browser, parses them with its DOMParser, and
    /// writes what it finds into `#result`: "OK …" or "PROBLEMS" and one problem per line.
    static func checkerPage(rules: [String], readerChecks: [String]) -> String {
        let list = rules.map { "\"\($0)\"" }.joined(separator: ",")
        let readerList = readerChecks.map { "\"\($0)\"" }.joined(separator: ",")
        return """
            <!DOCTYPE html>
            <html><body><pre id="result">PENDING</pre>
            <script>
            const pages = ["index.html", "layout.html", "messages.html", "rules.html", "readers.html"];
            const rules = [\(list)];
            const readerChecks = [\(readerList)];
            async function load(path) {
              const response = await fetch(path);
              if (!response.ok) throw new Error(path + ": HTTP " + response.status);
              return response;
            }
            async function run() {
              const problems = [], docs = {};
              let links = 0;
              for (const page of pages) {
                try { docs[page] = new DOMParser().parseFromString(await (await load(page)).text(), "text/html"); }
                catch (error) { problems.push("cannot load " + page + ": " + error.message); }
              }
              for (const id of rules) {
                if (!docs["rules.html"] || !docs["rules.html"].getElementById(id)) problems.push("rules.html has no anchor " + id);
              }
              for (const id of readerChecks) {
                if (!docs["readers.html"] || !docs["readers.html"].getElementById(id)) problems.push("readers.html has no anchor " + id);
              }
              for (const page of Object.keys(docs)) {
                const references = [...docs[page].querySelectorAll("a[href]")].map(a => a.getAttribute("href"))
                  .concat([...docs[page].querySelectorAll("img[src]")].map(img => img.getAttribute("src")));
                for (const href of references) {
                  if (/^[a-z]+:/i.test(href)) continue;
                  links += 1;
                  const [file, fragment] = href.split("#");
                  const target = file === "" ? page : file;
                  if (target.endsWith(".html")) {
                    if (!docs[target]) problems.push(page + ": link to a missing page " + href);
                    else if (fragment && !docs[target].getElementById(decodeURIComponent(fragment))) problems.push(page + ": broken anchor " + href);
                  } else {
                    try { await load(target); } catch (error) { problems.push(page + ": broken link " + href); }
                  }
                }
              }
              document.getElementById("result").textContent = problems.length ? "PROBLEMS\\n" + problems.join("\\n") : "OK " + rules.length + " rules, " + readerChecks.length + " reader checks, " + links + " links";
            }
            run().catch(error => { document.getElementById("result").textContent = "ERROR " + error; });
            </script></body></html>
            """
    }

    /// Serves `folder` over HTTP on a free port while `body` runs.
    func serving<Result>(_ folder: URL, _ body: (Int) async throws -> Result) async throws -> Result {
        let server = try TestSupport.start(["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder.path], executable: "/usr/bin/env")
        func stop() async {
            // SIGKILL: the server has nothing to save, and a child of the test process may inherit a
            // signal mask that blocks SIGTERM.
            kill(server.process.processIdentifier, SIGKILL)
            await server.exit()
        }
        var port: Int?
        for _ in 0..<400 where port == nil && server.isRunning {
            // "Serving HTTP on 127.0.0.1 port 41953 (http://127.0.0.1:41953/) ..."
            let words = server.standardOutput.split(whereSeparator: \.isWhitespace)
            if let index = words.firstIndex(of: "port"), index + 1 < words.count, let number = Int(words[index + 1]) {
                port = number
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let port else {
            await stop()
            throw ServerDidNotStart(output: server.standardOutput)
        }
        do {
            let result = try await body(port)
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }

    struct ServerDidNotStart: Error, CustomStringConvertible {
        var output: String
        var description: String { "python3 -m http.server did not say its port: \(output)" }
    }

    /// Chromium, headless, with `arguments` and the URL; its standard output.
    func chromium(_ arguments: [String], url: String) async throws -> String {
        let result = try await TestSupport.run(["chromium", "--headless", "--no-sandbox", "--hide-scrollbars", "--window-size=1280,900"] + arguments + [url],
                                               executable: "/usr/bin/env", timeout: 120)
        try #require(result.status == 0, "chromium failed (tools/test.sh installs Debian's chromium): \(result.stderr.suffix(1_500))")
        return result.stdout
    }

    /// What the checker page reports about the site in `folder`.
    func check(_ folder: URL) async throws -> String {
        let readerChecks = try SpecLoader.load(directory: TestSupport.repositoryRoot.appendingPathComponent("spec")).readers?.checks.map(\.id) ?? []
        try Self.checkerPage(rules: RuleCatalogue.all.map(\.id.rawValue), readerChecks: readerChecks).write(to: folder.appendingPathComponent("check.html"), atomically: true, encoding: .utf8)
        return try await serving(folder) { port in
            let dom = try await chromium(["--virtual-time-budget=15000", "--dump-dom"], url: "http://127.0.0.1:\(port)/check.html")
            guard let start = dom.range(of: "<pre id=\"result\">"), let end = dom.range(of: "</pre>", range: start.upperBound..<dom.endIndex) else { return dom }
            return String(dom[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    func buildSite(_ label: String = #function) async throws -> URL {
        let folder = try TestSupport.temporaryDirectory(label).appendingPathComponent("site")
        let built = try await TestSupport.run(["gen", "docs", "--html", folder.path])
        try #require(built.status == 0, "\(built.stderr)")
        return folder
    }

    @Test func everyRuleHasItsAnchorAndNoInternalLinkIsBroken() async throws {
        let folder = try await buildSite()
        let result = try await check(folder)
        let readerChecks = try SpecLoader.load(directory: TestSupport.repositoryRoot.appendingPathComponent("spec")).readers?.checks.count ?? 0
        #expect(readerChecks >= 12)
        #expect(result.hasPrefix("OK \(RuleCatalogue.all.count) rules, \(readerChecks) reader checks, "), "\(result)")
        let links = Int(result.split(separator: " ").dropFirst(6).first ?? "") ?? 0
        #expect(links > 100, "the pages link their rules, types and golden files: \(result)")

        // A screenshot of the rule catalogue, against one of an empty page taken the same way.
        let shot = folder.appendingPathComponent("rules.png"), blank = folder.appendingPathComponent("blank.png")
        try await serving(folder) { port in
            _ = try await chromium(["--screenshot=\(shot.path)"], url: "http://127.0.0.1:\(port)/rules.html")
        }
        _ = try await chromium(["--screenshot=\(blank.path)"], url: "data:text/html,<body></body>")
        let image = try Data(contentsOf: shot), empty = try Data(contentsOf: blank)
        #expect(image.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG")
        #expect(image.count > 5 * empty.count, "the screenshot shows the page (\(image.count) bytes against \(empty.count) for an empty page)")
    }

    @Test func theCheckerReportsAMissingAnchorAndABrokenLink() async throws {
        let folder = try await buildSite()
        let rules = folder.appendingPathComponent("rules.html")
        let text = try String(contentsOf: rules, encoding: .utf8)
        let broken = text.replacingOccurrences(of: "<tr id=\"RING-HOLE\">", with: "<tr>")
            .replacingOccurrences(of: "<p>Every rule has", with: "<p><a href=\"layout.html#NoSuchStructure\">x</a> <a href=\"golden/none.otlpmmap\">y</a> Every rule has")
        #expect(broken != text)
        try broken.write(to: rules, atomically: true, encoding: .utf8)
        let result = try await check(folder)
        #expect(result.hasPrefix("PROBLEMS"), "\(result)")
        #expect(result.contains("rules.html has no anchor RING-HOLE"), "\(result)")
        #expect(result.contains("rules.html: broken anchor layout.html#NoSuchStructure"), "\(result)")
        #expect(result.contains("rules.html: broken link golden/none.otlpmmap"), "\(result)")
        // The rule's own link to its anchor is broken too.
        #expect(result.contains("rules.html: broken anchor #RING-HOLE"), "\(result)")
    }

    /// `conform check` links every finding, in each report format, to an anchor the site has.
    @Test func theReportsLinkEveryFindingToItsRulesAnchor() async throws {
        let folder = try await buildSite()
        let rulesPage = try String(contentsOf: folder.appendingPathComponent("rules.html"), encoding: .utf8)
        let invalid = TestSupport.repositoryRoot.appendingPathComponent("golden/invalid")
        let files = try FileManager.default.contentsOfDirectory(atPath: invalid.path).filter { $0.hasSuffix(".otlpmmap") }.sorted()
            .map { invalid.appendingPathComponent($0).path }
        let json = try await TestSupport.run(["conform", "check", "--format", "json"] + files)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stderr)")
        let findings = ((report["files"] as? [[String: Any]]) ?? []).flatMap { ($0["findings"] as? [[String: Any]]) ?? [] }
        #expect(findings.count >= files.count)
        var rules: Set<String> = []
        for finding in findings {
            let rule = try #require(finding["rule"] as? String)
            #expect(finding["rule_url"] as? String == "rules.html#\(rule)")
            #expect(rulesPage.contains("<tr id=\"\(rule)\">"), "the site has an anchor for \(rule)")
            rules.insert(rule)
        }
        let text = try await TestSupport.run(["conform", "check"] + files)
        let junit = try await TestSupport.run(["conform", "check", "--format", "junit", "--rules-url", "https://example.org/otlp-mmap/rules.html"] + files)
        for rule in rules {
            #expect(text.stdout.contains("(rules.html#\(rule))"), "\(rule) in the text report")
            #expect(junit.stdout.contains("<property name=\"rule_url\" value=\"https://example.org/otlp-mmap/rules.html#\(rule)\"/>"), "\(rule) in JUnit")
        }
        let fromEnvironment = try TestSupport.start(["conform", "check", "--format", "json", files[0]], environment: ["OTLP_MMAP_RULES_URL": "/spec/rules.html"])
        #expect(await fromEnvironment.wait().stdout.contains("\"rule_url\" : \"\\/spec\\/rules.html#"))
    }

    /// `conform run` links a failure of a rule too (a runner check such as CONTENT-LOST has no anchor
    /// on the rules page, and gets none).
    @Test func runReportsLinkRuleFailures() async throws {
        let tool = TestSupport.toolPath
        let text = try await TestSupport.run(["conform", "run", "--scenario", "spans", "--", tool, "testee", "--break", "SLOT-LENGTH"])
        #expect(text.status != 0)
        #expect(text.stdout.contains("SLOT-LENGTH (Required): ") && text.stdout.contains("(rules.html#SLOT-LENGTH)"), "\(text.stdout)")
        let json = try await TestSupport.run(["conform", "run", "--scenario", "spans", "--format", "json", "--rules-url", "https://example.org/r.html", "--", tool, "testee", "--break", "SLOT-LENGTH"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        let scenario = try #require((report["scenarios"] as? [[String: Any]])?.first)
        #expect((scenario["rule_urls"] as? [String])?.contains("https://example.org/r.html#SLOT-LENGTH") == true, "\(scenario)")
    }
}

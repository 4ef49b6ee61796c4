import Foundation
import OTLPMmapCore
import OTLPMmapTestee

/// A fuzz case on disk: `ReplayStep`s (spec/testee.yaml) framed as the protocol frames its
/// messages. The first step is create_file; consumer pauses are steps too, so a replay drives the
/// testee exactly as the failing run did. Binary on purpose: any string a case holds survives.
package enum ReplayFile {
    package static func encode(_ script: TesteeScript) -> [UInt8] {
        var file = script.file
        file.path = ""
        var bytes = Frame.encode(ReplayStep(step: .command(Command(command: .createFile(file)))))
        for step in script.steps {
            switch step {
            case .command(let command): bytes += Frame.encode(ReplayStep(step: .command(command)))
            case .consumer(let paused): bytes += Frame.encode(ReplayStep(step: .consumer(ConsumerControl(paused: paused))))
            }
        }
        return bytes
    }

    package static func write(_ script: TesteeScript, to path: String) throws {
        do {
            try Data(encode(script)).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ScenarioError("\(path): cannot write the replay file: \(error.localizedDescription)")
        }
    }

    package static func read(path: String) throws -> TesteeScript {
        let bytes: [UInt8]
        do { bytes = try SystemFile.contents(of: path, limit: 64 << 20) } catch {
            throw ScenarioError("cannot read the replay file: \(error)")
        }
        return try decode(bytes, name: (path as NSString).lastPathComponent, source: path)
    }

    package static func decode(_ bytes: [UInt8], name: String, source: String) throws -> TesteeScript {
        var splitter = FrameSplitter()
        splitter.append(bytes)
        var file: CreateFile?
        var steps: [TesteeScript.Step] = []
        do throws(FrameError) {
            while let frame = try splitter.next() {
                let step = try Frame.decode(ReplayStep.self, frame.payload, streamOffset: frame.offset)
                switch step.step {
                case .command(let command)?:
                    if file == nil {
                        guard case .createFile(let create)? = command.command else {
                            throw FrameError(offset: frame.offset, "the first step of a replay file is create_file")
                        }
                        file = create
                        continue
                    }
                    switch command.command {
                    case .createFile?, .exit?:
                        throw FrameError(offset: frame.offset, "create_file comes only first and exit never (the runner adds it)")
                    case nil:
                        throw FrameError(offset: frame.offset, "a command with no member of `command` set")
                    default:
                        steps.append(.command(command))
                    }
                case .consumer(let control)?:
                    guard file != nil else { throw FrameError(offset: frame.offset, "the first step of a replay file is create_file") }
                    steps.append(.consumer(paused: control.paused))
                case nil:
                    throw FrameError(offset: frame.offset, "a step with neither a command nor a consumer change")
                }
            }
            if splitter.pendingBytes > 0 { throw FrameError(offset: splitter.consumed, "the file ends inside a frame (\(splitter.pendingBytes) bytes left)") }
        } catch {
            throw ScenarioError("\(source): not a replay file: \(error)")
        }
        guard let file else { throw ScenarioError("\(source): an empty replay file (no create_file step)") }
        return TesteeScript(name: name, description: "replay of \(source)", timeoutSeconds: 120, file: file, steps: steps)
    }
}

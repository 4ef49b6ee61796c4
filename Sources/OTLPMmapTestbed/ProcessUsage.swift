import Foundation
import OTLPMmapCore
#if canImport(Glibc)
import Glibc
#endif

/// What a running process has used so far, from /proc (Linux): CPU time in user and kernel mode,
/// resident memory now and at its peak. Nil fields are ones /proc did not give.
package struct ProcessUsage: Sendable, Equatable {
    /// utime + stime.
    package var cpuSeconds: Double
    /// VmRSS.
    package var residentBytes: Int
    /// VmHWM: the peak resident set since the process started.
    package var peakResidentBytes: Int

    /// Reads /proc/PID/stat and /proc/PID/status; nil when the process is gone or /proc has no
    /// such entries.
    package static func of(_ pid: pid_t) -> ProcessUsage? {
        guard let stat = try? SystemFile.text(of: "/proc/\(pid)/stat"),
              let status = try? SystemFile.text(of: "/proc/\(pid)/status") else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: fields are counted
        // from the last ')'. utime and stime are fields 14 and 15, the 12th and 13th after it.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        func kilobytes(_ name: String) -> Int? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        guard let resident = kilobytes("VmRSS"), let peak = kilobytes("VmHWM") else { return nil }
        return ProcessUsage(cpuSeconds: (user + system) / max(ticks, 1), residentBytes: resident * 1024, peakResidentBytes: peak * 1024)
    }
}

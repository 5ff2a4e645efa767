/// UTC calendar conversions and the timestamp formats AWS uses, without Foundation's formatters.
///
/// All functions take and return whole or fractional seconds since 1970-01-01T00:00:00Z.
package enum Timestamp {
    /// The largest instant, in epoch seconds either side of 1970, that an AWS timestamp may carry: about what a
    /// Java `Date` holds (milliseconds in a signed 64-bit integer, ±9.2e15 s), rounded down. Larger values are
    /// refused when a request is decoded, so that every later conversion to whole seconds or milliseconds stays in
    /// range.
    package static let maxMagnitude: Double = 9.0e15

    /// `epochSeconds` when it is a finite instant within ``maxMagnitude``; `nil` otherwise.
    package static func representable(_ epochSeconds: Double) -> Double? {
        epochSeconds.isFinite && abs(epochSeconds) <= maxMagnitude ? epochSeconds : nil
    }

    /// The civil date and time of an instant.
    package struct Civil: Sendable, Equatable {
        package var year, month, day, hour, minute, second: Int

        /// Creates a civil date and time.
        package init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
            (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
        }
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Wed, 12 Oct 2009 17:50:00 GMT`: the HTTP date of `Last-Modified`, `Date` and `Expires` headers (RFC 7231).
    package static func httpDate(_ epochSeconds: Int64) -> String {
        let c = civil(epochSeconds)
        let days = epochSeconds >= 0 ? epochSeconds / 86400 : (epochSeconds - 86399) / 86400
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
        return
            "\(weekday), \(pad(c.day, 2)) \(monthNames[c.month - 1]) \(pad(c.year, 4)) \(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)) GMT"
    }

    /// Parses an HTTP date (`Wed, 12 Oct 2009 17:50:00 GMT`); `nil` if it is not one.
    package static func parseHTTPDate(_ s: some StringProtocol) -> Int64? {
        let parts = s.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]),
            let month = monthNames.firstIndex(of: String(parts[2]))
        else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (1...daysIn(month: month + 1, year: year)).contains(day), hms[0] < 24, hms[1] < 60, hms[2] < 61 else {
            return nil
        }
        return epoch(Civil(year: year, month: month + 1, day: day, hour: hms[0], minute: hms[1], second: hms[2]))
    }

    /// Splits epoch seconds into a UTC civil date (Howard Hinnant's days-from-civil inverse).
    package static func civil(_ epochSeconds: Int64) -> Civil {
        let days = epochSeconds >= 0 ? epochSeconds / 86400 : (epochSeconds - 86399) / 86400
        let secs = Int(epochSeconds - days * 86400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = Int(yoe + era * 400) + (m <= 2 ? 1 : 0)
        return Civil(year: y, month: m, day: d, hour: secs / 3600, minute: secs % 3600 / 60, second: secs % 60)
    }

    /// Epoch seconds of a UTC civil date and time.
    package static func epoch(_ c: Civil) -> Int64 {
        let y = Int64(c.month <= 2 ? c.year - 1 : c.year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(c.month > 2 ? c.month - 3 : c.month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(c.day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86400 + Int64(c.hour * 3600 + c.minute * 60 + c.second)
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `2025-01-01T00:03:00Z`: CloudTrail's `eventTime` form (second precision).
    package static func iso8601(_ epochSeconds: Int64) -> String {
        let c = civil(epochSeconds)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
    }

    /// `2025-01-01T00:03:00.123Z`: the XML timestamp form of Query responses (millisecond precision).
    ///
    /// The instant is rounded to the nearest millisecond: `.123` is not exactly representable in binary, and
    /// truncating would turn `…00.123` into `…00.122`.
    package static func iso8601Millis(_ epochSeconds: Double) -> String {
        let totalMillis = Int64((epochSeconds * 1000).rounded())
        let whole = totalMillis >= 0 ? totalMillis / 1000 : (totalMillis - 999) / 1000
        let millis = Int(totalMillis - whole * 1000)
        let base = iso8601(whole)
        return String(base.dropLast()) + "." + pad(millis, 3) + "Z"
    }

    /// `20250101T000300Z`: the SigV4 `X-Amz-Date` form.
    package static func amzDate(_ epochSeconds: Int64) -> String {
        let c = civil(epochSeconds)
        return "\(pad(c.year, 4))\(pad(c.month, 2))\(pad(c.day, 2))T\(pad(c.hour, 2))\(pad(c.minute, 2))\(pad(c.second, 2))Z"
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Jan 22, 2021, 12:46:28 AM`: the Java-style form CloudTrail uses for timestamps inside
    /// `requestParameters` and `responseElements` (for example STS credential expirations).
    ///
    /// Older documentation samples show it without the comma after the year (`Jan 22, 2021 12:46:28 AM`, the
    /// pre-JDK 9 pattern); recent captures carry the comma, so Cairn writes the current form.
    package static func javaStyle(_ epochSeconds: Int64) -> String {
        let c = civil(epochSeconds)
        let hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12
        return "\(months[c.month - 1]) \(c.day), \(c.year), \(hour12):\(pad(c.minute, 2)):\(pad(c.second, 2)) \(c.hour < 12 ? "AM" : "PM")"
    }

    /// The number of days in a month of the proleptic Gregorian calendar.
    package static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses `YYYYMMDDTHHMMSSZ`; `nil` if malformed.
    package static func parseAmzDate(_ s: some StringProtocol) -> Int64? {
        let b = Array(s.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(4, 2), let d = num(6, 2), let h = num(9, 2), let mi = num(11, 2),
            let se = num(13, 2), (1...12).contains(mo), (1...daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60,
            se < 61
        else { return nil }
        return epoch(Civil(year: y, month: mo, day: d, hour: h, minute: mi, second: se))
    }

    /// Parses ISO 8601 `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; `nil` if malformed.
    package static func parseISO8601(_ s: String) -> Double? {
        let b = Array(s.utf8)
        guard b.count >= 19, b[4] == 45, b[7] == 45, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "),
            b[13] == 58, b[16] == 58
        else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for i in from..<(from + len) {
                guard i < b.count, b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
            let se = num(17, 2), (1...12).contains(mo), (1...daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60,
            se < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            guard i < b.count, b[i] >= 48, b[i] <= 57 else { return nil }
            var scale = 0.1
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < b.count {
            if b[i] == UInt8(ascii: "Z") {
                i += 1
            } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58,
                let om = num(i + 4, 2), oh < 24, om < 60
            {
                offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
                i += 6
            } else {
                return nil
            }
        }
        guard i == b.count else { return nil }
        return Double(epoch(Civil(year: y, month: mo, day: d, hour: h, minute: mi, second: se)) - Int64(offset))
            + fraction
    }
}

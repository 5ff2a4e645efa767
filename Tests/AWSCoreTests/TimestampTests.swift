import AWSCore
import Foundation
import Testing

/// Foundation formatters in UTC, the independent reference for Cairn's own calendar code.
private enum Reference {
    /// A POSIX-locale UTC Gregorian formatter for `format`.
    static func formatter(_ format: String) -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")!
        f.calendar = Calendar(identifier: .gregorian)
        f.dateFormat = format
        return f
    }

    /// An internet date-time formatter in UTC.
    static func iso8601Formatter() -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")!
        f.formatOptions = [.withInternetDateTime]
        return f
    }

    static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Foundation's UTC calendar fields of an instant.
    static func components(_ t: Int64) -> DateComponents {
        utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    /// Instants from 1601 to 9999 with a stride that visits every time of day and many days of the year,
    /// plus the days around leap days and century years.
    static let instants: [Int64] = {
        var out: [Int64] = []
        var t: Int64 = -11_644_473_600  // 1601-01-01
        while t < 253_402_300_799 {  // 9999-12-31T23:59:59
            out.append(t)
            t += 86_400 * 37 + 3_671
        }
        for (y, m, d) in [
            (1900, 2, 28), (1900, 3, 1), (2000, 2, 29), (2000, 3, 1), (2024, 2, 29), (2100, 2, 28), (2100, 3, 1), (1970, 1, 1), (1969, 12, 31),
            (2038, 1, 19),
        ] {
            var c = DateComponents()
            (c.year, c.month, c.day, c.hour, c.minute, c.second) = (y, m, d, 23, 59, 59)
            let date = utcCalendar.date(from: c)!
            out.append(Int64(date.timeIntervalSince1970))
            out.append(Int64(date.timeIntervalSince1970) + 1)
        }
        return out
    }()
}

/// UTC calendar arithmetic and AWS's timestamp formats, against Foundation.
@Suite("Timestamp")
struct TimestampTests {
    @Test("civil() agrees with Foundation's Gregorian calendar from 1601 to 9999")
    func civilMatchesFoundation() {
        var mismatches: [Int64] = []
        for t in Reference.instants {
            let c = Timestamp.civil(t)
            let r = Reference.components(t)
            if [c.year, c.month, c.day, c.hour, c.minute, c.second] != [r.year, r.month, r.day, r.hour, r.minute, r.second] {
                mismatches.append(t)
            }
        }
        #expect(Reference.instants.count > 80_000)
        #expect(mismatches == [])
    }

    @Test("epoch(civil(t)) == t for every day from year 0 to 9999 and for negative times")
    func roundTrip() {
        var t: Int64 = -62_167_219_200  // 0000-01-01T00:00:00Z
        var mismatches: [Int64] = []
        while t < 253_402_300_800 {
            if Timestamp.epoch(Timestamp.civil(t)) != t { mismatches.append(t) }
            t += 86_400 + 1
        }
        #expect(mismatches == [])
        for t: Int64 in [-1, -86_399, -86_400, -86_401, 0, 1, 951_782_400, 4_107_542_400] {
            #expect(Timestamp.epoch(Timestamp.civil(t)) == t)
        }
    }

    @Test("leap years: 2000 and 2024 have February 29, 1900 and 2100 do not")
    func leapYears() {
        for year in [1900, 2000, 2023, 2024, 2100, 2400] {
            // Civil has no package initializer: start from the epoch's date and set the fields.
            var civil = Timestamp.civil(0)
            (civil.year, civil.month, civil.day) = (year, 3, 1)
            let march1 = Timestamp.epoch(civil)
            let lastOfFebruary = Timestamp.civil(march1 - 1)
            let isLeap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            #expect(lastOfFebruary.month == 2)
            #expect(lastOfFebruary.day == (isLeap ? 29 : 28), "year \(year)")
        }
    }

    @Test("iso8601 equals ISO8601DateFormatter")
    func iso8601() {
        #expect(Timestamp.iso8601(0) == "1970-01-01T00:00:00Z")
        let f = Reference.iso8601Formatter()
        let mismatches = Reference.instants.filter { t in
            Timestamp.iso8601(t) != f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
        }
        #expect(mismatches == [])
    }

    @Test("amzDate equals yyyyMMdd'T'HHmmss'Z' and parses back")
    func amzDate() {
        let f = Reference.formatter("yyyyMMdd'T'HHmmss'Z'")
        let mismatches = Reference.instants.filter { t in
            let s = Timestamp.amzDate(t)
            return s != f.string(from: Date(timeIntervalSince1970: TimeInterval(t))) || Timestamp.parseAmzDate(s) != t
        }
        #expect(mismatches == [])
    }

    @Test(
        "parseAmzDate rejects malformed values",
        arguments: [
            "", "20250314T150926", "20250314 150926Z", "2025031T150926Z0", "20251314T150926Z", "20250314T250926Z", "20250314T156026Z",
            "2025-3-14T150926Z", "20250300T150926Z",
        ])
    func parseAmzDateRejects(text: String) {
        #expect(Timestamp.parseAmzDate(text) == nil)
    }

    @Test("javaStyle: 'MMM d, yyyy, h:mm:ss a' as CloudTrail writes timestamps in parameters")
    func javaStyle() {
        // The example of CloudTrail's documentation: 2021-01-22T00:46:28Z (epoch by Python's calendar.timegm).
        #expect(Timestamp.javaStyle(1_611_276_388) == "Jan 22, 2021, 12:46:28 AM")
        let f = Reference.formatter("MMM d, yyyy, h:mm:ss a")
        let mismatches = Reference.instants.filter { t in
            Timestamp.javaStyle(t) != f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
        }
        #expect(mismatches == [])
        // Noon and midnight, where 12-hour clocks are easy to get wrong.
        #expect(Timestamp.javaStyle(1_611_316_800) == "Jan 22, 2021, 12:00:00 PM")
        #expect(Timestamp.javaStyle(1_611_273_600) == "Jan 22, 2021, 12:00:00 AM")
        #expect(Timestamp.javaStyle(1_611_320_399) == "Jan 22, 2021, 12:59:59 PM")
        #expect(Timestamp.javaStyle(1_611_320_400) == "Jan 22, 2021, 1:00:00 PM")
    }

    @Test("iso8601Millis writes milliseconds as ISO8601DateFormatter does with fractional seconds")
    func millis() {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")!
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for millis: Int64 in [0, 1, 5, 10, 99, 100, 123, 250, 500, 999] {
            for base: Int64 in [0, 1_611_276_388, 1_735_689_600, 4_102_444_799] {
                let t = Double(base) + Double(millis) / 1000
                let expected = f.string(from: Date(timeIntervalSince1970: Double(base) + Double(millis) / 1000))
                #expect(Timestamp.iso8601Millis(t) == expected, "base \(base) millis \(millis)")
            }
        }
    }

    @Test(
        "parseISO8601 handles Z, offsets, fractions and a space separator",
        arguments: [
            ("2021-01-22T00:46:28Z", 1_611_276_388.0),
            ("2021-01-22T00:46:28", 1_611_276_388.0),
            ("2021-01-22 00:46:28Z", 1_611_276_388.0),
            ("2021-01-22T05:46:28+05:00", 1_611_276_388.0),
            ("2021-01-21T19:16:28-05:30", 1_611_276_388.0),
            ("2021-01-22T00:46:28+00:00", 1_611_276_388.0),
            ("2021-01-22T00:46:28.5Z", 1_611_276_388.5),
            ("2021-01-22T00:46:28.250Z", 1_611_276_388.25),
            ("2021-01-22T01:46:28.125+01:00", 1_611_276_388.125),
            ("1969-12-31T23:59:59Z", -1.0),
        ])
    func parseISO8601(text: String, expected: Double) {
        #expect(Timestamp.parseISO8601(text) == expected)
    }

    @Test(
        "parseISO8601 refuses out-of-range fields, a bare fraction dot and a malformed offset",
        arguments: [
            "2021-13-01T00:00:00Z", "2021-02-29T00:00:00Z", "2021-04-31T00:00:00Z", "2021-01-01T24:00:00Z",
            "2021-01-01T00:60:00Z", "2021-01-01T00:00:00.Z", "2021-01-01T00:00:00+05x30", "2021-01-01T00:00:00+25:00",
        ])
    func parseISO8601Refuses(text: String) {
        #expect(Timestamp.parseISO8601(text) == nil)
    }

    @Test("parseAmzDate refuses days that do not exist in the month")
    func parseAmzDateRefusesImpossibleDays() {
        #expect(Timestamp.parseAmzDate("20210229T000000Z") == nil)
        #expect(Timestamp.parseAmzDate("20240229T000000Z") != nil)
        #expect(Timestamp.parseAmzDate("20210431T000000Z") == nil)
    }

    @Test("parseISO8601 agrees with ISO8601DateFormatter to the millisecond")
    func parseAgainstFoundation() throws {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for text in ["2024-02-29T23:59:59.999Z", "2000-01-01T00:00:00.001+14:00", "1999-12-31T12:00:00.123-12:00", "2100-03-01T00:00:00.000Z"] {
            let reference = try #require(f.date(from: text)).timeIntervalSince1970
            let parsed = try #require(Timestamp.parseISO8601(text))
            #expect(abs(parsed - reference) < 0.0005, "\(text)")
        }
    }

    @Test(
        "parseISO8601 rejects malformed text",
        arguments: [
            "", "2021-01-22", "2021-01-22T00:46", "2021/01/22T00:46:28Z", "2021-01-22T00:46:28X", "2021-01-22T00:46:28+0500",
            "2021-01-22T00:46:28Zjunk", "2021-01-22T00:46:28+05:00junk", "20a1-01-22T00:46:28Z", "2021-01-22T00:4a:28Z",
        ])
    func parseRejects(text: String) {
        #expect(Timestamp.parseISO8601(text) == nil)
    }
}

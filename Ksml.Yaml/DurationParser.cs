using System.Globalization;

namespace Ksml.Yaml;

/// <summary>KSML durations: a whole number with an optional unit ms|s|m|h|d|w; no unit means milliseconds.</summary>
public static class DurationParser
{
    public static bool TryParse(string text, out long milliseconds)
    {
        milliseconds = 0;
        text = text.Trim();
        var digits = 0;
        while (digits < text.Length && char.IsDigit(text[digits]))
            digits++;
        if (digits == 0 || !long.TryParse(text.Substring(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            return false;
        long factor;
        switch (text.Substring(digits).Trim())
        {
            case "": case "ms": factor = 1; break;
            case "s": factor = 1000; break;
            case "m": factor = 60_000; break;
            case "h": factor = 3_600_000; break;
            case "d": factor = 86_400_000; break;
            case "w": factor = 604_800_000; break;
            default: return false;
        }
        if (amount > long.MaxValue / factor)
            return false;
        milliseconds = amount * factor;
        return true;
    }
}

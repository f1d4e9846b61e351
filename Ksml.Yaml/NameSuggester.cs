using System;
using System.Collections.Generic;

namespace Ksml.Yaml;

/// <summary>Finds the closest known name for "did you mean" hints (Damerau-Levenshtein, case-insensitive).</summary>
public static class NameSuggester
{
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (candidate == name)
                continue;
            var distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance || (distance == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        // Accept roughly one edit in three characters, and always a single edit.
        var limit = Math.Max(1, Math.Max(name.Length, best?.Length ?? 0) / 3);
        if (best is not null && best.StartsWith(name, StringComparison.OrdinalIgnoreCase) && name.Length >= 3)
            return best;
        if (bestDistance <= limit)
            return best;
        // Names in KSML files share prefixes by convention (is_…, enrich_…): offer the longest shared one.
        string? prefixed = null;
        var longest = 2;
        foreach (var candidate in candidates)
        {
            var common = 0;
            while (common < name.Length && common < candidate.Length && char.ToLowerInvariant(name[common]) == char.ToLowerInvariant(candidate[common]))
                common++;
            if (common > longest && candidate != name)
            {
                longest = common;
                prefixed = candidate;
            }
        }
        return prefixed;
    }

    /// <summary>" Did you mean 'x'?" or an empty string.</summary>
    public static string Hint(string name, IEnumerable<string> candidates)
    {
        var best = Closest(name, candidates);
        return best is null ? "" : $" Did you mean '{best}'?";
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Ksml.Integration.Tests.Support;

/// <summary>
/// Keeps the messages one application instance logs: by default its KSML functions' (to tell
/// instances apart), or what <paramref name="accept"/> picks by category and level.
/// </summary>
public sealed class RecordingLoggerProvider(Func<string, LogLevel, bool>? accept = null) : ILoggerProvider
{
    private readonly Func<string, LogLevel, bool> _accept = accept ?? ((category, level) => category.Contains(".function.", StringComparison.Ordinal) && level >= LogLevel.Information);

    public ConcurrentQueue<string> Messages { get; } = new();

    /// <summary>The managed threads the kept messages were logged on.</summary>
    public ConcurrentDictionary<int, bool> Threads { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => provider._accept(category, logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            provider.Messages.Enqueue(formatter(state, exception));
            provider.Threads[Environment.CurrentManagedThreadId] = true;
        }
    }
}

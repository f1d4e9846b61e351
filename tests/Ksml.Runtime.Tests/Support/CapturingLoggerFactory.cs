using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Tests.Support;

/// <summary>Records every log line written through it, at or above <see cref="MinimumLevel"/>.</summary>
public sealed class CapturingLoggerFactory(LogLevel minimumLevel = LogLevel.Information) : ILoggerFactory
{
    public LogLevel MinimumLevel { get; } = minimumLevel;

    public List<(string Category, LogLevel Level, string Message)> Lines { get; } = [];

    /// <summary>The exceptions logged with those lines, as a console logger would print them.</summary>
    public List<string> Exceptions { get; } = [];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => Scope.Instance;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= factory.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                lock (factory.Lines)
                {
                    factory.Lines.Add((category, logLevel, formatter(state, exception)));
                    if (exception is not null)
                        factory.Exceptions.Add(exception.ToString());
                }
        }
    }
}

internal sealed class Scope : IDisposable
{
    public static readonly Scope Instance = new();

    public void Dispose() { }
}

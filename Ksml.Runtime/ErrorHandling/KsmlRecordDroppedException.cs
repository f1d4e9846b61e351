namespace Ksml.Runtime.ErrorHandling;

/// <summary>
/// A record was handled by its error policy (logged, dead-lettered) and is to be skipped. Thrown
/// out of the operation so Streamiz moves on to the next record; the application's exception
/// handler answers CONTINUE for it and FAIL for everything else.
/// </summary>
public sealed class KsmlRecordDroppedException(string message, Exception cause) : Exception(message, cause);

/// <summary>A failure the error policy says must stop the application.</summary>
public sealed class KsmlStopException(string message, Exception cause) : Exception(message, cause);

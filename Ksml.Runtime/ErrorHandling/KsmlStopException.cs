namespace Ksml.Runtime.ErrorHandling;

/// <summary>A failure the error policy says must stop the application; the record stays uncommitted.</summary>
public sealed class KsmlStopException(string message, Exception cause) : Exception(message, cause);

namespace Ksml.Runtime.ErrorHandling;

/// <summary>
/// A failure the error policy says must stop the application; the record stays uncommitted. Its
/// message names the step and the error without record contents; the cause (whose text may hold
/// them) is printed with it only when the stage's <c>logPayload</c> allows.
/// </summary>
public sealed class KsmlStopException(string message, Exception cause, bool showsCause = true) : Exception(message, cause)
{
    /// <inheritdoc />
    public override string ToString() => showsCause ? base.ToString() : $"{GetType().FullName}: {Message}{Environment.NewLine}{StackTrace}";
}

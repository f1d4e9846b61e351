using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ksml.Runtime.Observability;

/// <summary>
/// The application's OpenTelemetry tracer: the <c>Ksml</c> source, sampled by ratio (a record arriving with a trace
/// follows its sampling decision), exported over OTLP when an endpoint is configured (<c>ksml.tracing.otlp</c>, or
/// the standard <c>OTEL_EXPORTER_OTLP_*</c> variables), and otherwise only propagating context.
/// </summary>
internal static class KsmlTracerProvider
{
    /// <summary>Whether tracing is on: <c>ksml.tracing.enabled</c>, unless <c>OTEL_SDK_DISABLED</c> says true.</summary>
    public static bool Enabled(Hosting.TracingOptions options, Func<string, string?> environment) =>
        options.Enabled && !string.Equals(environment("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Starts the tracer, or nothing when tracing is off; the caller disposes it, which exports what is left.</summary>
    public static TracerProvider? Start(Hosting.TracingOptions options, string serviceName, Func<string, string?> environment)
    {
        if (!Enabled(options, environment))
            return null;
        var resource = ResourceBuilder.CreateDefault();
        if (environment("OTEL_SERVICE_NAME") is null)
            resource.AddService(serviceName);
        var builder = Sdk.CreateTracerProviderBuilder()
            .AddSource(KsmlTracing.SourceName)
            .SetResourceBuilder(resource)
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SampleRatio)));
        if (options.OtlpEndpoint is { } endpoint)
            builder.AddOtlpExporter(otlp =>
            {
                otlp.Endpoint = new Uri(endpoint);
                otlp.Protocol = options.OtlpProtocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            });
        else if (environment("OTEL_EXPORTER_OTLP_ENDPOINT") is not null || environment("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") is not null)
            builder.AddOtlpExporter(); // reads the OTEL_EXPORTER_OTLP_* variables itself
        return builder.Build();
    }
}

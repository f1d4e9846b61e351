using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Ksml.Integration.Tests.Support;

/// <summary>A real HTTP server on loopback that the tests can make healthy, failing (500) or hanging.</summary>
public sealed class FaultyHttpApi : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<string, JsonNode?> _lookup;
    private int _requests;

    public enum Mode { Healthy, Failing, Hanging }

    public FaultyHttpApi(Func<string, JsonNode?> lookup, string token)
    {
        _lookup = lookup;
        Token = token;
        Url = Loopback.HttpUrl();
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _ = Task.Run(Serve);
    }

    public string Url { get; }

    public string Token { get; }

    public Mode Behaviour { get; set; } = Mode.Healthy;

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The W3C <c>traceparent</c> of each request, as received (null where none was sent).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string?> TraceParents { get; } = new();

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch { return; }
            _ = Task.Run(() => Answer(context));
        }
    }

    private async Task Answer(HttpListenerContext context)
    {
        Interlocked.Increment(ref _requests);
        TraceParents.Enqueue(context.Request.Headers["traceparent"]);
        var response = context.Response;
        try
        {
            if (Behaviour == Mode.Hanging)
                await Task.Delay(TimeSpan.FromSeconds(5));
            var (status, body) = Behaviour == Mode.Failing ? (500, """{"error":"boom"}""")
                : context.Request.Headers["Authorization"] != "Bearer " + Token ? (401, """{"error":"unauthorized"}""")
                : _lookup(context.Request.Url!.AbsolutePath.Split('/').Last()) is { } found ? (200, found.ToJsonString())
                : (404, """{"error":"not found"}""");
            response.StatusCode = status;
            response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(body);
            await response.OutputStream.WriteAsync(bytes);
            response.Close();
        }
        catch (Exception) when (!_listener.IsListening)
        {
        }
        catch (HttpListenerException)
        {
        }
    }

    public void Dispose() => _listener.Close();
}

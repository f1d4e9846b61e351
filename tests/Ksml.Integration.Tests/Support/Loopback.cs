using System.Net;
using System.Net.Sockets;

namespace Ksml.Integration.Tests.Support;

/// <summary>Addresses for servers the tests start on 127.0.0.1.</summary>
public static class Loopback
{
    /// <summary>A port nothing listens on right now (the OS picks it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary><c>http://127.0.0.1:&lt;free port&gt;</c>.</summary>
    public static string HttpUrl() => $"http://127.0.0.1:{FreePort()}";
}

using HostedGreetings;
using Ksml.Runtime.Hosting;

// KSML on the .NET Generic Host: the application is a hosted service with the host's configuration, logging and
// graceful shutdown, its health is one of the host's health checks, and its endpoints join the app's own.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddKsml(ksml =>
{
    ksml.Definitions = KsmlDefinitions.All;
    ksml.RunnerFile = Path.Combine(AppContext.BaseDirectory, "greetings-runner.yaml");   // copied next to the app
});

var app = builder.Build();
app.MapHealthChecks("/health");   // the host's health checks, KSML's ("ksml") among them
app.MapKsml();                    // /live, /ready, /startup, /state/..., /metrics beside the app's own endpoints
app.MapGet("/", () => "Greets every name written to the 'names' topic on 'greetings'.\n");
app.Run();

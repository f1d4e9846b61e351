using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Serdes;
using Microsoft.Extensions.Logging;

// Runs the order flow and the simulated services on the embedded broker (or a configured cluster),
// lets the producer write a bounded number of orders, and accounts for every one of them:
//   orders: N in, A ready_for_shipment, B payment_failed, C inventory_failed, D invalid, L lost
// The exit code is 0 only when no order is lost. Options: --orders N (default 200), --timeout SECONDS (default 120).
var orders = IntArgument("--orders", 200);
var timeout = TimeSpan.FromSeconds(IntArgument("--timeout", 120));

var options = KsmlRunnerConfig.Parse("", "(defaults)", Environment.GetEnvironmentVariable,
    [$"kafka.application.id=order-processing-{Guid.NewGuid():N}"[..40], .. Environment.GetEnvironmentVariable("KSML_BOOTSTRAP_SERVERS") is { Length: > 0 } servers ? [$"kafka.bootstrap.servers={servers}"] : Array.Empty<string>()]);
using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
    .SetMinimumLevel(LogLevel.Information).AddFilter("Streamiz", LogLevel.Warning).AddFilter("order-processing.function", LogLevel.Warning));
await using var host = await KsmlHost.StartAsync([new BoundedOrders(new OrderProcessing.OrderProcessingKsml(), orders), new OrderProcessing.ServicesKsml()], options, loggers);

var states = new Dictionary<string, string>(StringComparer.Ordinal);
var seen = new HashSet<string>(StringComparer.Ordinal);
using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
{
    BootstrapServers = host.BootstrapServers,
    GroupId = "order-accounting-" + Guid.NewGuid().ToString("N"),
    AutoOffsetReset = AutoOffsetReset.Earliest,
    EnableAutoCommit = false,
}).Build();
var topics = OrderProcessing.OrderProcessingKsml.Topics.All.ToDictionary(t => t.Name, t => t.Topic);
consumer.Subscribe([topics["order_events"], topics["validated_orders"], topics["order_status_updates"]]);
var json = KsmlSerdes.For<JsonNode>(OrderProcessing.OrderProcessingKsml.Topics.order_events.ValueType);
string[] finalStates = ["ready_for_shipment", "payment_failed", "inventory_failed", "invalid"];
var deadline = DateTime.UtcNow + timeout;
while (DateTime.UtcNow < deadline && !(seen.Count >= orders && states.Count(s => finalStates.Contains(s.Value)) >= seen.Count))
{
    if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } record || record.Message.Value is null)
        continue;
    var value = json.Deserialize(record.Message.Value, new SerializationContext(MessageComponentType.Value, record.Topic));
    if (record.Topic == topics["order_events"])
        seen.Add(record.Message.Key);
    else if (value?["status"]?.GetValue<string>() is { } status)
        states[record.Message.Key] = status;
}
consumer.Close();

int Count(string state) => seen.Count(id => states.GetValueOrDefault(id) == state);
var ready = Count("ready_for_shipment");
var paymentFailed = Count("payment_failed");
var inventoryFailed = Count("inventory_failed");
var invalid = Count("invalid");
var lost = seen.Count - ready - paymentFailed - inventoryFailed - invalid;
Console.WriteLine($"orders: {seen.Count} in, {ready} ready_for_shipment, {paymentFailed} payment_failed, {inventoryFailed} inventory_failed, {invalid} invalid, {lost} lost");
return lost == 0 && seen.Count == orders ? 0 : 1;

int IntArgument(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) && value > 0 ? value : fallback;
}

/// <summary>The order flow with its order producer writing <paramref name="count"/> orders.</summary>
internal sealed class BoundedOrders(IKsmlDefinition inner, int count) : IKsmlDefinition
{
    public string Name => inner.Name;
    public string SourcePath => inner.SourcePath;
    public IReadOnlyList<KsmlTopicDefinition> Topics => inner.Topics;
    public IReadOnlyList<KsmlFunctionDefinition> Functions => inner.Functions;
    public IReadOnlyList<KsmlProducerDefinition> Producers =>
        inner.Producers.Select(p => p.Name == "order_producer" ? p with { Count = count } : p).ToList();
    public void Build(KsmlTopologyBuilder ksml) => inner.Build(ksml);
}

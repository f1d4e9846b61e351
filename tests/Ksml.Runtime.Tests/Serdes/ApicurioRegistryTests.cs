using Ksml.Testing;
using System.Buffers.Binary;
using System.Net;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime.Serdes;

namespace Ksml.Runtime.Tests.Serdes;

/// <summary>Apicurio Registry 3 through its own API, as KSML 2.0's runner files configure it (<c>/apis/registry/v3</c>).</summary>
[TestFixture, NonParallelizable]
public sealed class ApicurioRegistryTests
{
    private const string ReadingSchema = """{"type":"record","name":"Reading","fields":[{"name":"sensor","type":"string"},{"name":"value","type":"long"}]}""";
    private static readonly SerializationContext Value = new(MessageComponentType.Value, "readings");
    private static readonly JsonNode Reading = JsonNode.Parse("""{"sensor":"s","value":5}""")!;
    private string _schemas = "";
    private FakeApicurioRegistry _registry = null!;

    [SetUp]
    public void Start()
    {
        _schemas = Path.Combine(Path.GetTempPath(), "ksml-apicurio-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_schemas);
        File.WriteAllText(Path.Combine(_schemas, "Reading.avsc"), ReadingSchema);
        _registry = new FakeApicurioRegistry();
    }

    [TearDown]
    public void Stop()
    {
        KsmlNotations.Configure(null, new Dictionary<string, NotationOptions>());
        _registry.Dispose();
        Directory.Delete(_schemas, recursive: true);
    }

    /// <summary>Configures the avro notation as apicurio_avro against the fake, afresh (no schema cached).</summary>
    private void Configure(params (string Key, string Value)[] settings) =>
        KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions>
        {
            ["avro"] = new("apicurio_avro", _registry.Url) { RegistryConfig = settings.ToDictionary(s => s.Key, s => s.Value) },
        });

    private static byte[] Write(string type, JsonNode node) => KsmlSerdes.For<JsonNode>(KsmlDataTypes.Parse(type)).Serialize(node, Value);

    private static JsonNode Read(string type, byte[] bytes) => KsmlSerdes.For<JsonNode>(KsmlDataTypes.Parse(type)).Deserialize(bytes, Value);

    private static int IdIn(byte[] record) => BinaryPrimitives.ReadInt32BigEndian(record.AsSpan(1, 4));

    [Test]
    public void With_auto_register_the_schema_becomes_a_version_of_the_topics_artifact_and_the_record_carries_its_content_id()
    {
        Configure(("apicurio.registry.auto-register", "true"), ("apicurio.registry.auto-register.if-exists", "FIND_OR_CREATE_VERSION"));

        var bytes = Write("avro:Reading", Reading);
        Configure(); // a reader that has seen no schema yet
        var back = Read("avro", bytes);

        Assert.That(bytes[0], Is.Zero, "the magic byte");
        Assert.That(IdIn(bytes), Is.EqualTo(41), "the content id, as KSML 2.0 pins apicurio.registry.use-id: contentId");
        Assert.That(_registry.Requests, Does.Contain("POST /apis/registry/v3/groups/default/artifacts?ifExists=FIND_OR_CREATE_VERSION&canonical=true")
            .And.Contain("GET /apis/registry/v3/ids/contentIds/41"));
        Assert.That(back.ToJsonString(), Is.EqualTo(Reading.ToJsonString()), "a bare avro type reads with the schema the registry serves for the id");
        Assert.That(_registry.Register("readings-value", Avro.Schema.Parse(ReadingSchema).ToString()), Is.EqualTo(41), "registered under the artifact readings-value of group default");
    }

    [Test]
    public void Without_auto_register_the_serializer_finds_its_schema_by_content_as_apicurios_does_or_refuses_the_record()
    {
        Configure();
        Assert.That(() => Write("avro:Reading", Reading), Throws.InstanceOf<SerializationException>()
            .With.Message.EqualTo("apicurio.registry.auto-register is false and the schema is not registered under subject 'readings-value'"));

        var id = _registry.Register("readings-value", Avro.Schema.Parse(ReadingSchema).ToString());
        Configure();

        Assert.That(IdIn(Write("avro:Reading", Reading)), Is.EqualTo(id));
        Assert.That(_registry.Requests.Where(r => r.StartsWith("POST", StringComparison.Ordinal)), Is.All.StartsWith("POST /apis/registry/v3/search/versions?groupId=default&artifactId=readings-value"),
            "looked up, never created");
    }

    [Test]
    public void Find_latest_writes_with_the_artifacts_latest_version_and_use_id_globalId_frames_global_ids()
    {
        var canonical = Avro.Schema.Parse(ReadingSchema).ToString();
        _registry.Register("readings-value", canonical);
        var latest = _registry.Register("readings-value", canonical.Replace("\"Reading\"", "\"Reading\",\"doc\":\"v2\"", StringComparison.Ordinal));

        Configure(("apicurio.registry.find-latest", "true"));
        Assert.That(IdIn(Write("avro:Reading", Reading)), Is.EqualTo(latest));

        Configure(("apicurio.registry.find-latest", "true"), ("apicurio.registry.use-id", "globalId"));
        var bytes = Write("avro:Reading", Reading);
        Assert.That(IdIn(bytes), Is.EqualTo(1002), "the latest version's global id");
        Configure(("apicurio.registry.use-id", "globalId"));
        Assert.That(Read("avro", bytes).ToJsonString(), Is.EqualTo(Reading.ToJsonString()));
        Assert.That(_registry.Requests, Does.Contain("GET /apis/registry/v3/ids/globalIds/1002"));
    }

    [Test]
    public void Basic_and_oauth2_logins_reach_the_registry()
    {
        Configure(("apicurio.registry.auto-register", "true"), ("apicurio.registry.auth.username", "alice"), ("apicurio.registry.auth.password", "s3cret"));
        Write("avro:Reading", Reading);
        Assert.That(_registry.Authorizations, Is.Not.Empty.And.All.EqualTo("Basic YWxpY2U6czNjcmV0"));

        _registry.Authorizations.Clear();
        Configure(("apicurio.registry.find-latest", "true"), ("apicurio.registry.auth.service.token.endpoint", _registry.Root + "/token"),
            ("apicurio.registry.auth.client.id", "ksml"), ("apicurio.registry.auth.client.secret", "s3cret"));
        Write("avro:Reading", Reading);
        Assert.That(_registry.Authorizations.Skip(1), Is.Not.Empty.And.All.EqualTo("Bearer t0ken"), "after the token request, every call carries its token");
    }

    [TestCase(HttpStatusCode.ServiceUnavailable)]
    [TestCase(HttpStatusCode.Unauthorized)]
    public void A_registry_that_fails_or_refuses_the_login_is_unavailable_not_a_bad_record(HttpStatusCode status)
    {
        Configure(("apicurio.registry.auto-register", "true"));
        _registry.FailWith = status;

        var error = Assert.Throws<SchemaRegistryUnavailableException>(() => Read("avro", [0, 0, 0, 0, 41, 2, (byte)'s', 10]))!;

        Assert.That(error.Message, Does.StartWith($"The schema registry at {_registry.Url} is unavailable (fetching schema 41)"));
    }
}

using System.Diagnostics.Metrics;
using Ksml.Runtime.Observability;
using Ksml.Runtime.Python;
using Ksml.Runtime.Tests.Support;
using Microsoft.Extensions.Logging;
using static Ksml.Runtime.Tests.Support.Python;

namespace Ksml.Runtime.Tests.Bridge;

/// <summary>What snippets find besides their parameters: log, metrics and stores.</summary>
public sealed class PythonContextTests
{
    [Test]
    public void Log_formats_placeholders_and_writes_to_a_logger_named_after_the_function()
    {
        var logs = new CapturingLoggerFactory(LogLevel.Information);
        var factory = new PythonFunctionFactory(logs);
        var f = factory.Create(Definition("audit", "forEach", ["key", "value"], resultType: null,
            code: "log.debug('hidden {}', key)\nlog.info('order {} costs {}', key, value)\nlog.warn('{} and {}', 'one')\nlog.error('plain')"));

        f.Invoke(null, "o-1", 9.5);

        Assert.That(logs.Lines, Is.EqualTo(new[]
        {
            ("orders.function.audit", LogLevel.Information, "order o-1 costs 9.5"),
            ("orders.function.audit", LogLevel.Warning, "one and {}"),
            ("orders.function.audit", LogLevel.Error, "plain"),
        }));
    }

    [Test]
    public void Log_level_checks_answer_from_the_logger_configuration()
    {
        var factory = new PythonFunctionFactory(new CapturingLoggerFactory(LogLevel.Warning));
        var f = factory.Create(Definition("levels", "valueTransformer", ["key", "value"], resultType: "[boolean]",
            expression: "[log.isDebugEnabled(), log.isInfoEnabled(), log.isWarnEnabled(), log.isErrorEnabled()]"));

        Assert.That(f.Invoke(null, null, null), Is.EqualTo(new List<object?> { false, false, true, true }));
    }

    [Test]
    public void Metrics_counters_meters_and_timers_reach_system_diagnostics_metrics_with_function_tags()
    {
        var recorded = new List<(string Instrument, double Value, string Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KsmlMetrics.MeterName && instrument.Name.StartsWith("user.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var text = string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"));
            lock (recorded)
                recorded.Add((instrument.Name, value, text));
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        var f = Create(Definition("measured", "forEach", ["key", "value"], resultType: null,
            code: "metrics.counter('orders_seen', {'region': 'eu'}).increment()\nmetrics.counter('orders_seen', {'region': 'eu'}).increment(2)\nmetrics.meter('bytes').mark(10)\nmetrics.timer('lookup').updateSeconds(0.25)"));
        f.Invoke(null, "k", "v");

        Assert.That(recorded, Is.EquivalentTo(new[]
        {
            ("user.orders_seen", 1.0, "namespace=orders,function=measured,region=eu"),
            ("user.orders_seen", 2.0, "namespace=orders,function=measured,region=eu"),
            ("user.bytes", 10.0, "namespace=orders,function=measured"),
            ("user.lookup", 250.0, "namespace=orders,function=measured"),
        }));
    }

    [Test]
    public void GlobalCode_registers_metrics_tagged_with_its_definition_as_ksmls_example_17_does()
    {
        var recorded = new List<(string Instrument, long Value, string Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KsmlMetrics.MeterName && instrument.Name == "user.log_message-calls")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((i, v, t, _) =>
        {
            lock (recorded)
                recorded.Add((i.Name, v, string.Join(",", t.ToArray().Select(tag => $"{tag.Key}={tag.Value}"))));
        });
        listener.Start();

        var f = new PythonFunctionFactory().Create(Definition("log_message", "forEach", ["key", "value"], resultType: null,
            globalCode: "callCounter = metrics.counter('log_message-calls')", code: "callCounter.increment()"));
        f.Invoke(null, "k", "v");
        f.Invoke(null, "k", "v");

        Assert.That(recorded, Is.EqualTo(new[] { ("user.log_message-calls", 1L, "namespace=orders"), ("user.log_message-calls", 1L, "namespace=orders") }));
    }

    [Test]
    public void Snippets_import_modules_from_the_configured_module_path()
    {
        var modules = Directory.CreateTempSubdirectory("ksml-modules-");
        try
        {
            System.IO.File.WriteAllText(Path.Combine(modules.FullName, "pricing_rules.py"), "def with_vat(amount):\n    return round(amount * 1.21, 2)\n");
            var factory = new PythonFunctionFactory(options: PythonOptions.FromEnvironment() with { ModulePath = modules.FullName });
            var f = factory.Create(Definition("priced", "valueTransformer", ["key", "value"], resultType: "double",
                globalCode: "import pricing_rules", expression: "pricing_rules.with_vat(value)"));

            Assert.That(f.Invoke(null, "k", 100.0), Is.EqualTo(121.0));
        }
        finally
        {
            modules.Delete(recursive: true);
        }
    }

    [Test]
    public void A_module_path_that_does_not_exist_stops_the_start_with_its_name()
    {
        var error = Assert.Throws<PythonStartupException>(() => new PythonFunctionFactory(options: PythonOptions.FromEnvironment() with { ModulePath = "/nonexistent/ksml-modules" }))!;

        Assert.That(error.Message, Does.Contain("/nonexistent/ksml-modules").And.Contain("modulePath"));
    }

    [Test]
    public void Declared_stores_are_reachable_by_name_and_through_the_stores_dict()
    {
        var f = Create(Definition("store_names", "valueTransformer", ["key", "value"], stores: ["a_store", "b_store"], resultType: "[string]",
            expression: "sorted(stores.keys()) + [a_store.kind] + [str(stores['b_store'] is b_store)]"));

        Assert.That(f.Invoke(null, null, null), Is.EqualTo(new List<object?> { "a_store", "b_store", "a_store", "True" }));
    }
}

"""Checks that the SAM template is operable: every function logs to a log
group of its own with a retention, every function has an alarm on its
errors and one on its throttles, every dead-letter queue has an alarm on
any message in it, and every alarm notifies someone. Exits 1 naming what is
missing. Run by ./scripts/test with cfn-lint's Python, whose loader reads
the template's short-form tags (!Ref, !GetAtt, !Sub).

    python check_operations.py infra/template.yaml
"""

import sys

from cfnlint.decode import decode


def of_type(resources, kind):
    return {name: r for name, r in resources.items() if r.get("Type") == kind}


def ref(value):
    """The logical ID a `!Ref` or `!GetAtt` names, if it is one."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else str(target).split(".")[0]
    return None


def problems(template):
    resources = template.get("Resources", {})
    functions = of_type(resources, "AWS::Serverless::Function")
    log_groups = of_type(resources, "AWS::Logs::LogGroup")
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    queues = of_type(resources, "AWS::SQS::Queue")
    found = []

    for name, function in functions.items():
        group = ref(function.get("Properties", {}).get("LoggingConfig", {}).get("LogGroup"))
        if group not in log_groups:
            found.append(f"{name} logs to no log group of the template's")
        elif "RetentionInDays" not in log_groups[group].get("Properties", {}):
            found.append(f"{name}'s log group {group} keeps logs forever")

    def alarmed(metric, dimension, target):
        for alarm in alarms.values():
            props = alarm.get("Properties", {})
            if props.get("MetricName") != metric:
                continue
            for d in props.get("Dimensions", []):
                if d.get("Name") == dimension and ref(d.get("Value")) == target:
                    return True
        return False

    for name in functions:
        for metric in ("Errors", "Throttles"):
            if not alarmed(metric, "FunctionName", name):
                found.append(f"{name} has no alarm on its {metric}")

    dead_letters = set()
    for queue in queues.values():
        target = queue.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if ref(target):
            dead_letters.add(ref(target))
    for function in functions.values():
        on_failure = (
            function.get("Properties", {})
            .get("EventInvokeConfig", {})
            .get("DestinationConfig", {})
            .get("OnFailure", {})
        )
        if on_failure.get("Type") == "SQS" and ref(on_failure.get("Destination")):
            dead_letters.add(ref(on_failure.get("Destination")))
    if not dead_letters:
        found.append("the template has no dead-letter queue")
    for queue in sorted(dead_letters):
        if not alarmed("ApproximateNumberOfMessagesVisible", "QueueName", queue):
            found.append(f"dead-letter queue {queue} has no alarm on its messages")

    for name, alarm in alarms.items():
        if not alarm.get("Properties", {}).get("AlarmActions"):
            found.append(f"alarm {name} notifies no one")
    return found


def main(path):
    template, matches = decode(path)
    if template is None:
        print(f"{path} can't be read: {matches}")
        return 1
    found = problems(template)
    for problem in found:
        print(problem)
    if not found:
        print(f"{path}: every function has its log group, retention and alarms; every dead-letter queue and alarm is watched")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

Feature: The inventory's own record of a deletion closes exceptions of any rule
  Some rules never report a deleted resource themselves: the rules a cloud provider manages,
  and the rules that run on a schedule. For those, the inventory's own record of the
  deletion is the signal. It names the resource exactly (its type, ID, name and ARN) and no
  rule: the rules it concerns are those that list the resource's type. Both signals of one
  deletion change an exception once, whichever arrives first.

  Background:
    Given the rule "restricted-ssh" over security groups whose exceptions name one resource by its ID

  Scenario Outline: A managed rule's exception is closed by the inventory's record
    Given account 111122223333 has an exception for "<key>" under "restricted-ssh" in eu-west-1
    And the inventory shows the security group "sg-0abc123" named "web-legacy" of account 111122223333 in eu-west-1 as deleted
    When the inventory records the deletion of the security group "sg-0abc123" named "web-legacy" in account 111122223333, eu-west-1
    Then the outcome is "<outcome>"
    And the exception for "<key>" of account 111122223333 under "restricted-ssh" is <state>
    And the message is done with

    Examples:
      | key        | outcome  | state      |
      | sg-0abc123 | closed   | closed     |
      | web-legacy | closed   | closed     |
      | web        | no-match | still open |
      | sg-0abc12  | no-match | still open |

  Scenario: An exception naming the resource's ARN is closed by the recorded ARN
    Given the rule "iam-no-inline-policy" over roles whose exceptions name one resource by its ARN
    And account 111122223333 has an exception for "arn:aws:iam::111122223333:role/deploy" under "iam-no-inline-policy" in us-east-1
    And the inventory shows the role "AROAEXAMPLE0001" named "deploy" of account 111122223333 in us-east-1 as deleted
    When the inventory records the deletion of the role "AROAEXAMPLE0001" named "deploy" with ARN "arn:aws:iam::111122223333:role/deploy" in account 111122223333, us-east-1
    Then the outcome is "closed"
    And the exception for "arn:aws:iam::111122223333:role/deploy" of account 111122223333 under "iam-no-inline-policy" is closed
    And the history of the exception for "arn:aws:iam::111122223333:role/deploy" of account 111122223333 under "iam-no-inline-policy" names the report that closed it

  Scenario: A group is closed by a mix of both signals
    Given the rule "ebs-encrypted" over volumes whose exceptions name a group of resources by their IDs
    And account 111122223333 has an exception for "vol-1,vol-2" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volume "vol-1" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the volume "vol-2" of account 111122223333 in eu-west-1 as still existing
    When the inventory records the deletion of the volume "vol-1" in account 111122223333, eu-west-1
    And the volumes "vol-2" are deleted one by one in account 111122223333, eu-west-1 and each deletion is reported for "ebs-encrypted"
    Then the outcomes are "member-deleted, closed"
    And the exception for "vol-1,vol-2" of account 111122223333 under "ebs-encrypted" is closed
    And the exception for "vol-1,vol-2" of account 111122223333 under "ebs-encrypted" has "vol-1, vol-2" recorded as deleted

  Scenario: Both signals of one deletion close the exception once, the rule's report first
    Given account 111122223333 has an exception for "sg-0abc123" under "restricted-ssh" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "restricted-ssh"
    And the inventory records the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1
    Then the outcomes are "closed, duplicate"
    And the exception table is unchanged

  Scenario: Both signals of one deletion close the exception once, the inventory's record first
    Given account 111122223333 has an exception for "sg-0abc123" under "restricted-ssh" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the inventory records the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1
    And the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "restricted-ssh"
    Then the outcomes are "closed, duplicate"
    And the exception table is unchanged

  Scenario Outline: A record that is not a deletion is ignored
    Given the rule "ebs-tagged" over volumes whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "vol-0abc" under "ebs-tagged" in eu-west-1
    And the inventory shows the volume "vol-0abc" of account 111122223333 in eu-west-1 as deleted
    When the inventory records the volume "vol-0abc" in account 111122223333, eu-west-1 with the status "<status>"
    Then the outcome is "<outcome>"
    And the exception table is unchanged
    And the message is done with

    Examples:
      | status              | outcome |
      | OK                  | ignored |
      | ResourceDiscovered  | ignored |
      | ResourceNotRecorded | ignored |

  Scenario: A deletion the recorder does not record in detail still counts
    Given account 111122223333 has an exception for "sg-0abc123" under "restricted-ssh" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the inventory records the security group "sg-0abc123" in account 111122223333, eu-west-1 with the status "ResourceDeletedNotRecorded"
    Then the outcome is "closed"

  Scenario: A type that no rule lists concerns no exception
    Given account 111122223333 has an exception for "logs-eu" under "restricted-ssh" in eu-west-1
    When the inventory records the deletion of the bucket "logs-eu" in account 111122223333, eu-west-1
    Then the outcome is "no-match"
    And the reason names "no rule lists AWS::S3::Bucket"
    And the exception table is unchanged

  Scenario: A rule that lists no types is left to its own reports and the sweep
    Given the rule "sg-no-open-ingress" whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the inventory records the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1
    Then the outcome is "no-match"
    And the exception for "sg-0abc123" of account 111122223333 under "sg-no-open-ingress" is still open

  Scenario: A record sent by another account than the one it names is rejected
    Given account 111122223333 has an exception for "sg-0abc123" under "restricted-ssh" in eu-west-1
    When the inventory records the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1, sent by account 999988887777
    Then the outcome is "rejected"
    And the exception table is unchanged
